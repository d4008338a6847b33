"""Translation of the plugin's strings rendered outside the page templates (panels, flash texts).

The catalogs and the request's language belong to the web app (``web/i18n.py``, catalog
``web/locale/en/LC_MESSAGES/evaluation.po``). A plugin does not import the web package (the
dependency runs ``web -> core <- plugins``), so the web's ``gettext`` is looked up among the
loaded modules: inside the served app it is there and follows the request's language; in the
worker and the CLI it is not, and the Vietnamese source text is used.
"""

from __future__ import annotations

import sys


def _(message: str) -> str:
    web_i18n = sys.modules.get("web.i18n")
    return web_i18n.gettext(message) if web_i18n is not None else message


def pgettext(context: str, message: str) -> str:
    web_i18n = sys.modules.get("web.i18n")
    return web_i18n.pgettext(context, message) if web_i18n is not None else message
