"""Matrix entries of the built-in plugins' routes, as in expectations.py."""

from __future__ import annotations

from tests.web.generated.expectations import Expect  # noqa: F401  (entries use the helpers there)

PLUGIN_EXPECTATIONS: dict = {}
