"""Page templates compiled once per language, with their fixed texts already translated.

A staff page calls ``_("…")`` over a hundred times; through Jinja's i18n extension each call
crossed three context calls and cost about 18 µs, a fifth of the conference editor's CPU. The
catalogs are read once at start-up and never change while the process runs, so a call on a
literal (``_("Lưu")``, ``pgettext("heading", "Điểm cầu")``) is translated when the template is
compiled, in an environment of that language. Calls with parameters, ``ngettext`` and
``{% trans %}`` blocks stay calls, as before. The rewrite goes by name: a template must not bind
``_``, ``gettext`` or ``pgettext`` to something else (``{% set %}``, a macro argument, a loop).
"""

from __future__ import annotations

from collections.abc import Iterator

from jinja2 import Environment, TemplateNotFound
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from litestar.exceptions import TemplateNotFoundException
from litestar.plugins.jinja import JinjaTemplateEngine

from web import i18n

# (call name, how many literal arguments it takes)
CONSTANT_CALLS = {"_": 1, "gettext": 1, "pgettext": 2}


class ConstantTranslations(Extension):
    """Rewrites ``_("text")`` into ``("translated"|safe)`` for the environment's language
    (``environment.translation_locale``). The result is the one the call gave: newstyle gettext
    marks a translation safe and applies ``%`` formatting with no parameters."""

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        locale = self.environment.translation_locale  # type: ignore[attr-defined]
        pending: list[Token] = []
        previous: Token | None = None
        for token in stream:
            pending.append(token)
            while pending:
                matched = self._match(pending, previous)
                if matched is None:  # not (or no longer) a literal call: let the first token through
                    previous = pending.pop(0)
                    yield previous
                    continue
                if matched is False:  # still possibly a literal call: wait for the next token
                    break
                translated, used = matched
                first = pending[0]
                yield from (Token(first.lineno, "lparen", "("), Token(first.lineno, "string", translated),
                            Token(first.lineno, "pipe", "|"), Token(first.lineno, "name", "safe"))
                previous = Token(first.lineno, "rparen", ")")
                yield previous
                del pending[:used]
        yield from pending

    def _match(self, tokens: list[Token], previous: Token | None):
        """None: no literal call starts here; False: need more tokens; else (translation, tokens used)."""
        head = tokens[0]
        if head.type != "name" or head.value not in CONSTANT_CALLS or (previous is not None and previous.type == "dot"):
            return None
        arguments = CONSTANT_CALLS[head.value]
        shape = ["lparen"] + ["string", "comma"] * (arguments - 1) + ["string", "rparen"]
        for position, expected in enumerate(shape, start=1):
            if position >= len(tokens):
                return False
            if tokens[position].type != expected:
                return None
        strings = [token.value for token in tokens[1:len(shape) + 1] if token.type == "string"]
        translated = self._translate(head.value, strings)
        return None if translated is None else (translated, len(shape) + 1)

    def _translate(self, call: str, strings: list[str]) -> str | None:
        catalog = i18n.translations(self.environment.translation_locale)  # type: ignore[attr-defined]
        text = catalog.pgettext(*strings) if call == "pgettext" else catalog.gettext(strings[0])
        try:
            return text % {}  # what newstyle gettext does to a call without parameters ("%%" → "%")
        except (TypeError, ValueError, KeyError):
            return None  # a text that needs its parameters: left to the call, which says what is wrong


class LocalisedJinjaEngine(JinjaTemplateEngine):
    """Litestar's Jinja engine over one environment per language: a page is rendered from the
    environment of the request's language."""

    def __init__(self, environments: dict[str, Environment]) -> None:
        self.environments = environments
        super().__init__(engine_instance=environments[i18n.DEFAULT_LOCALE])

    def register_template_callable(self, key, template_callable) -> None:
        for environment in self.environments.values():
            self.engine = environment
            super().register_template_callable(key, template_callable)
        self.engine = self.environments[i18n.DEFAULT_LOCALE]

    def _of_request(self) -> Environment:
        return self.environments.get(i18n.current_locale(), self.engine)

    def get_template(self, template_name: str):
        try:
            return self._of_request().get_template(name=template_name)
        except TemplateNotFound as exc:
            raise TemplateNotFoundException(template_name=template_name) from exc

    def render_string(self, template_string: str, context) -> str:
        return self._of_request().from_string(template_string).render(context)
