"""Bad input, generated from ``app.routes`` where it can be: every id in every path, replaced by
one that does not exist (or that no column could hold), answers 404 — never a 500; malformed
bodies and parameters answer 400/422 in the one error shape with Vietnamese per-field messages."""

from __future__ import annotations

import dataclasses
import re

import pytest

from tests.web.generated.expectations import expectation_for
from tests.web.generated.harness import ModuleApp
from tests.web.generated.routes import call, table_endpoints, url_for
from web.app import create_app

pytestmark = pytest.mark.timeout(300)
ENDPOINTS = [endpoint for endpoint in table_endpoints(create_app()) if ":int}" in endpoint.path]
UNKNOWN_IDS = (987_654_321, 2 ** 70, -1)


def test_the_generated_list_is_not_empty():
    assert len(ENDPOINTS) > 40


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda endpoint: endpoint.name)
def test_an_unknown_id_answers_404(module_app: ModuleApp, endpoint):
    entry = expectation_for(endpoint)
    caller = "attendee" if entry.need == "attendee" else None if entry.need == "fixed" else "admin"
    wrong = []
    for name in re.findall(r"{(\w+):int}", endpoint.path):
        for unknown in UNKNOWN_IDS:
            fill = {**entry.fill, name: lambda seed, place, unknown=unknown: unknown}
            place = module_app.seed.place("own")
            url = url_for(endpoint, dataclasses.replace(entry, fill=fill), module_app.seed, place)
            module_app.caller(caller, fresh=entry.resets_session)
            status = call(module_app, endpoint, url, entry.request(module_app.seed, place), stream=entry.stream)
            if status != 404:
                wrong.append(f"{endpoint.name} as {caller or 'anonymous'} at position own with {name}={unknown}: "
                             f"expected 404, got {status}")
    assert not wrong, "\n".join(wrong)


def test_malformed_input_answers_400_or_422_with_vietnamese_messages_per_field(module_app: ModuleApp):
    own = module_app.seed.place("own")
    cases = [
        ("POST", "/api/v1/people", {"json": {"unit_id": "mot", "full_name": "A"}}, 400, "unit_id", "số nguyên"),
        ("POST", "/api/v1/people", {"json": {"unit_id": own.unit["id"], "full_name": "A", "shoe_size": 42}}, 400, "shoe_size",
         "Không có trường này"),
        ("POST", "/api/v1/people", {"json": {"full_name": "A"}}, 400, "unit_id", "Thiếu trường bắt buộc"),
        ("GET", "/api/v1/people", {}, 400, "unit_id", "Thiếu tham số bắt buộc"),
        ("GET", "/api/v1/people", {"params": {"unit_id": own.unit["id"], "limit": "nhieu"}}, 400, "limit", "số nguyên"),
        ("POST", "/api/v1/conferences", {"json": {"unit_id": own.unit["id"], "title": "X", "kind": "periodic_briefing",
                                                  "format": "in_person", "starts_at": "thứ hai", "ends_at": "2030-01-01T10:00:00+07:00"}},
         400, "starts_at", "Ngày giờ"),
        ("POST", "/api/v1/people", {"json": {"unit_id": own.unit["id"], "full_name": "Nguyễn Văn X", "phone": "091 23"}}, 422,
         "phone", "không hợp lệ"),
        ("POST", "/api/v1/people", {"content": b"{not json", "headers": {"content-type": "application/json"}}, 400, None, None),
    ]
    wrong = []
    for method, url, kwargs, status, field, words in cases:
        headers = kwargs.pop("headers", {})
        client = module_app.use("admin")
        response = client.request(method, url, headers={"x-csrftoken": client.cookies.get("hoinghi_csrf"), **headers}, **kwargs)
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        if response.status_code != status or set(body) - {"error", "fields", "preview"} or "error" not in body:
            wrong.append(f"{method} {url} {kwargs}: expected {status} in the error shape, got {response.status_code} {response.text}")
        elif field and (field not in body["fields"] or words not in body["fields"][field]):
            wrong.append(f"{method} {url} {kwargs}: expected a message on {field!r} saying {words!r}, got {body['fields']}")
        elif any(english in response.text for english in ("Expected `", "Object contains", "Object missing", "Missing required")):
            wrong.append(f"{method} {url} {kwargs}: an English message leaked: {response.text}")
    assert not wrong, "\n".join(wrong)
