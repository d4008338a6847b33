"""Fixtures of the generated tests: one seeded database and one in-process app per module."""

from __future__ import annotations

import pytest

from tests.web.generated.harness import module_app as _module_app


@pytest.fixture(scope="module")
def module_app(template_database, tmp_path_factory):
    with _module_app(template_database, tmp_path_factory.mktemp("generated")) as module:
        yield module


@pytest.fixture(scope="session")
def route_table():
    """The app's routes, read from a freshly built app (no database needed to build one)."""
    from tests.web.generated.routes import table_endpoints
    from web.app import create_app

    return table_endpoints(create_app())
