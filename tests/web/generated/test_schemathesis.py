"""schemathesis over /schema: every operation of the OpenAPI document, as each role, finds no 5xx
and no response that violates the document.

Operations are read from a freshly built app at collection, so a new API route is covered the
moment it exists. Derandomised (a fixed seed, the same cases on every run), a fixed number of
examples per operation, and a time cap per operation (pytest-timeout); the requests go to the
real app in-process over the module's seeded database, each rolled back (harness.py).
"""

from __future__ import annotations

import time

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.web.generated.harness import CSRF_COOKIE, CSRF_HEADER, ModuleApp
from web.app import create_app

EXAMPLES = 6  # per operation and role
SEED = 20_301
SECONDS_PER_OPERATION = 60
ROLES = ("admin", "organiser", "checkin_staff", "viewer", "attendee")
pytestmark = pytest.mark.timeout(SECONDS_PER_OPERATION * len(ROLES))

# skipped on purpose, with the reason: nothing else
SKIPPED = {
    ("GET", "/api/v1/conferences/{conference_id}/live"): "an endless event stream; its statuses are in the matrix test",
}


def _session_ending() -> set[tuple[str, str]]:
    """Operations that end or replace the caller's session (run each example in a new one)."""
    import re

    from tests.web.generated.expectations import EXPECTATIONS

    return {(method, re.sub(r"{(\w+):\w+}", r"{\1}", path)) for (method, path), entry in EXPECTATIONS.items()
            if entry.resets_session}


SESSION_ENDING = _session_ending()


def _operations() -> list[tuple[str, str]]:
    document = create_app().openapi_schema.to_schema()
    return sorted((method.upper(), path) for path, item in document["paths"].items() for method in item
                  if method in {"get", "post", "put", "patch", "delete"})


OPERATIONS = _operations()


@pytest.fixture(scope="module")
def api_schema(module_app: ModuleApp):
    response = module_app.use(None).get("/schema/openapi.json")
    assert response.status_code == 200, response.text
    return schemathesis.openapi.from_dict(response.json())


def test_the_document_lists_the_api():
    assert len(OPERATIONS) > 60 and ("GET", "/api/v1/units") in OPERATIONS


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: f"{operation[0]} {operation[1]}")
def test_operation_never_fails_and_answers_as_documented(module_app: ModuleApp, api_schema, operation):
    method, path = operation
    if operation in SKIPPED:
        pytest.skip(SKIPPED[operation])
    api_operation = api_schema[path][method]
    failures: list[str] = []
    cap = time.monotonic() + SECONDS_PER_OPERATION * 0.8

    for role in ROLES:
        @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, print_blob=False,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @hypothesis.seed(SEED)
        @given(case=api_operation.as_strategy())
        def run(case):
            if time.monotonic() > cap:
                return  # over the time cap: the remaining examples are not sent
            client = module_app.caller(role, fresh=operation in SESSION_ENDING)
            kwargs = case.as_transport_kwargs(base_url="http://testserver.local")
            headers = dict(kwargs.pop("headers", None) or {})
            headers.pop("Cookie", None)
            if method != "GET" and client.cookies.get(CSRF_COOKIE):
                headers[CSRF_HEADER] = client.cookies.get(CSRF_COOKIE)
            request = {key: kwargs[key] for key in ("params", "json", "data", "files", "content") if kwargs.get(key) is not None}
            if "data" in request and not isinstance(request["data"], dict):
                request["content"] = request.pop("data")
            if "files" in request:  # requests' shape: plain form fields ride along as (name, (None, value)) files
                files, fields = [], dict(request.pop("data", None) or {})
                for name, value in (request["files"].items() if isinstance(request["files"], dict) else request["files"]):
                    if isinstance(value, tuple) and value and value[0] is not None:
                        files.append((name, value))
                    else:
                        fields[name] = str(value[1] if isinstance(value, tuple) else value)
                request["files"], request["data"] = files or None, fields
                if not files:
                    request.pop("files")
            built = client.build_request(kwargs["method"], kwargs["url"], headers=headers, **request)
            built.read()  # the body kept, for the failure report
            response = client.send(built, follow_redirects=False)
            try:
                case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
            except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001 - collected with its case
                failures.append(f"{method} {path} as {role}: {response.status_code} for {case.as_curl_command()}\n"
                                f"{str(failure)[:1500]}")
                raise

        before = len(failures)
        try:
            run()
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - recorded with its case; next role
            if len(failures) == before:
                failures.append(f"{method} {path} as {role}: {error!r}")
    assert not failures, "\n\n".join(failures[:5])
