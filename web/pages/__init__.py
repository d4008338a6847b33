"""HTML pages: Jinja2 templates rendered on the server, htmx for the interactive parts.

A page handler declares ``opt={"access": ..., "page": True}``; errors on pages answer HTML (and
a staff page without a session redirects to ``/login``) where the API answers JSON.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from web import i18n
from web.pages.constant_translations import ConstantTranslations, LocalisedJinjaEngine
from web.pages.unit_options import unit_options

WEB_DIR = Path(__file__).resolve().parent.parent
TEMPLATE_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
PAGE = {"page": True}


def template_environment(plugin_folders: list[str], locale: str = i18n.DEFAULT_LOCALE) -> Environment:
    """The pages' environment for one language (see web/pages/constant_translations.py)."""
    environment = Environment(
        loader=ChoiceLoader([FileSystemLoader(TEMPLATE_DIR), *(FileSystemLoader(folder) for folder in plugin_folders)]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n", ConstantTranslations],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.extend(translation_locale=locale)
    environment.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext,
                                        npgettext=i18n.npgettext)
    from web.pages.conference_labels import recurrence

    environment.filters.update(datetime=i18n.local_datetime, date=i18n.local_date, time=i18n.local_time, recurrence=recurrence,
                               phone=i18n.local_phone)
    from web.static_versions import static_url

    environment.globals.update(LOCALES=i18n.LOCALES, current_locale=i18n.current_locale, unit_options=unit_options,
                               static_url=static_url)
    return environment


def template_config(plugin_folders: list[str]) -> TemplateConfig:
    from web.security import masked_csrf_token

    environments = {locale: template_environment(plugin_folders, locale) for locale in i18n.LOCALES}
    engine = LocalisedJinjaEngine(environments)
    engine.register_template_callable("csrf_token", masked_csrf_token)  # in place of Litestar's plain token (BREACH)
    return TemplateConfig(instance=engine)


def static_router(plugin_static: dict[str, str]):
    """``/static/…`` for the core, ``/static/<plugin>/…`` for each plugin; cached a day (pages name
    the files by ``static_url``, whose address changes with the file: web/static_versions.py)."""
    from litestar.datastructures import CacheControlHeader

    from web import static_versions

    static_versions.serve("/static/", STATIC_DIR)
    for plugin, folder in plugin_static.items():
        static_versions.serve(f"/static/{plugin}/", folder)
    routers = [create_static_files_router(path="/static", directories=[STATIC_DIR], opt={"access": "public"},
                                          cache_control=CacheControlHeader(max_age=86400, public=True),
                                          include_in_schema=False, name="static")]
    for plugin, folder in sorted(plugin_static.items()):
        routers.append(create_static_files_router(path=f"/static/{plugin}", directories=[folder], opt={"access": "public"},
                                                  cache_control=CacheControlHeader(max_age=86400, public=True),
                                                  include_in_schema=False, name=f"static-{plugin}"))
    return routers
