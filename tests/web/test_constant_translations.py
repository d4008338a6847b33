"""web/pages/constant_translations.py: a literal ``_("…")`` translated when the template compiles
renders exactly what the call rendered at request time, in both languages, for every message of
the catalogs; calls with parameters stay calls."""

import json

import pytest
from jinja2 import Environment, select_autoescape

from web import i18n
from web.pages import template_environment


def runtime_environment() -> Environment:
    """The environment as it was: every ``_()`` a call at render time."""
    environment = Environment(autoescape=select_autoescape(default=True, default_for_string=True), extensions=["jinja2.ext.i18n"])
    environment.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext,
                                          npgettext=i18n.npgettext)
    return environment


def catalog_messages() -> list[tuple[str | None, str]]:
    """Every (context, message) of the English catalogs."""
    from babel.messages.pofile import read_po

    messages = set()
    for po in i18n.catalog_files("en"):
        with po.open("rb") as handle:
            for message in read_po(handle, locale="en"):
                if message.id and isinstance(message.id, str):
                    messages.add((message.context, message.id))
    return sorted(messages, key=lambda item: (item[0] or "", item[1]))


def call_of(context: str | None, message: str) -> str:
    literal = json.dumps(message, ensure_ascii=False)
    return f"{{{{ pgettext({json.dumps(context)}, {literal}) }}}}" if context else f"{{{{ _({literal}) }}}}"


@pytest.mark.parametrize("locale", sorted(i18n.LOCALES))
def test_every_catalog_message_renders_as_the_runtime_call_did(locale):
    compiled, runtime = template_environment([], locale), runtime_environment()
    messages = catalog_messages()
    assert len(messages) > 500
    i18n.use_locale(locale)
    try:
        for context, message in messages:
            source = call_of(context, message)
            try:
                expected = runtime.from_string(source).render()
            except (KeyError, ValueError, TypeError):  # a message that needs its parameters
                continue
            assert compiled.from_string(source).render() == expected, (context, message)
    finally:
        i18n.use_locale(i18n.DEFAULT_LOCALE)


def test_literal_calls_are_translated_at_compile_time_and_the_rest_at_render_time():
    english = template_environment([], "en")
    source = ('{{ _("Sửa") }}|{{ pgettext("heading", "Điểm cầu") }}|{{ _("Kênh: %(channel)s", channel="<b>") }}|'
              '{{ helper._("Sửa") }}|{{ shown(_("Sửa")) }}')
    i18n.use_locale("vi")  # the request's language does not change what the English environment compiled
    html = english.from_string(source).render(helper={"_": lambda text: "attribute: " + text}, shown=lambda text: type(text).__name__)
    assert html == "Edit|Venues|Kênh: &lt;b&gt;|attribute: Sửa|Markup"


def test_a_page_is_rendered_in_the_language_of_its_request():
    from litestar import get
    from litestar.response import Template
    from litestar.testing import create_test_client

    from web.pages import template_config

    @get("/page/{lang:str}", sync_to_thread=False)
    def page(lang: str) -> Template:
        i18n.use_locale(lang)
        return Template(template_name="conferences/_reach.html", context={"reach": 3, "error": None})

    with create_test_client([page], template_config=template_config([])) as client:
        english, vietnamese = client.get("/page/en").text, client.get("/page/vi").text
        assert english != vietnamese and "người" in vietnamese and "people" in english
