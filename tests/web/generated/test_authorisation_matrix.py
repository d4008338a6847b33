"""The authorisation matrix, generated from ``app.routes``: every route × every caller (anonymous,
the attendee, each staff role on unit A) × every position of the seeded objects (own unit, child,
sibling, parent, venue unit of a higher unit's conference) answers what
``tests/web/generated/expectations.py`` says: 404 out of reach, 403 visible but not allowed, 2xx
allowed, 401 anonymous. A route without an entry there fails, so a new route cannot ship unguarded.

One seeded database for the module; every request is rolled back (see harness.py).
"""

from __future__ import annotations

import pytest

from core.access import PERMISSIONS, ROLES
from tests.web.generated.expectations import EXPECTATIONS, Expect
from tests.web.generated.harness import ModuleApp
from tests.web.generated.routes import Endpoint, call, table_endpoints, url_for
from web.app import create_app

pytestmark = pytest.mark.timeout(600)
ENDPOINTS = table_endpoints(create_app())
CALLERS = ("anonymous", "attendee", *ROLES)


def test_every_route_has_an_expectation():
    missing = [endpoint.name for endpoint in ENDPOINTS if endpoint.key not in EXPECTATIONS]
    assert not missing, ("routes without an entry in tests/web/generated/expectations.py (say who may call them):\n  "
                         + "\n  ".join(missing))


def test_no_expectation_names_a_route_that_is_gone():
    present = {endpoint.key for endpoint in ENDPOINTS}
    stale = [f"{method} {path}" for method, path in EXPECTATIONS if (method, path) not in present]
    assert not stale, "entries of expectations.py for routes the app no longer has:\n  " + "\n  ".join(stale)


def expected(endpoint: Endpoint, entry: Expect, caller: str, position: str) -> set[int] | None:
    """The statuses the caller may get at the position; None when the combination does not apply."""
    ok = set(entry.ok or (endpoint.status_code,))
    if entry.need == "fixed":
        return {entry.fixed_for.get(caller, entry.fixed)}
    if entry.need == "public":
        return ok
    plugin_guarded = "plugin" in endpoint.opt  # the plugin guard answers 404 before anything else
    if entry.need == "attendee":
        if caller != "attendee":
            return {404} if plugin_guarded else {401}
        return ok if position == "own" else {404}
    if caller in ("anonymous", "attendee"):
        # a staff page sends whoever is not signed in to /login (web/errors.py)
        return {303} if "page" in endpoint.opt else {401}
    if entry.need == "staff":
        return ok
    allowed = caller in PERMISSIONS[entry.need]
    if position == "venue":
        if entry.venue is None:
            return None
        if entry.venue == "forbid":
            return {403}
        return ok if allowed else {entry.refused}
    if position in ("sibling", "parent"):
        return {404}
    return ok if allowed else {entry.refused}


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.key in EXPECTATIONS], ids=lambda endpoint: endpoint.name)
def test_route_answers_each_caller_as_expected(module_app: ModuleApp, endpoint: Endpoint):
    entry = EXPECTATIONS[endpoint.key]
    seed = module_app.seed
    wrong: list[str] = []
    for caller in CALLERS:
        positions = entry.positions + (("venue",) if entry.venue and "venue" not in entry.positions else ())
        if caller in ("anonymous", "attendee") and entry.need not in ("attendee",):
            positions = positions[:1]  # who they are decides, not where the object lies
        for position in positions:
            want = expected(endpoint, entry, caller, position)
            if want is None:
                continue
            place = seed.place(position)
            url = url_for(endpoint, entry, seed, place)
            module_app.caller(caller, fresh=entry.resets_session)
            got = call(module_app, endpoint, url, entry.request(seed, place), stream=entry.stream)
            if got not in want:
                wrong.append(f"{endpoint.name} as {caller} at position {position} ({url}): expected "
                             f"{' or '.join(map(str, sorted(want)))}, got {got}")
    assert not wrong, "\n".join(wrong)
