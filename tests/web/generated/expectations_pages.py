"""Matrix entries of the core's HTML pages (and the API routes they brought), as in expectations.py."""

from __future__ import annotations

from tests.web.generated.expectations import Expect  # noqa: F401  (entries use the helpers there)

PAGE_EXPECTATIONS: dict = {}
