"""Domain errors. The web layer maps each class to one HTTP status in one place.

A message is a Vietnamese *template* with named parameters, e.g.
``ValidationError("Tệp vượt quá giới hạn {limit} MB.", field="file", limit=max_mb)``.
``error.message`` is the formatted Vietnamese text (logs, CLI, tests); the web layer renders the
same template in the person's language through :meth:`DomainError.translated`. A parameter that
is itself a word of a fixed vocabulary (a permission, a status, "đơn vị") is a :class:`Label`, and
is translated too; any other parameter (a name, a number, a file name) is shown as it is.

Babel extracts the first argument of every error class, ``Phrase`` and ``Label`` (Makefile ``i18n``), so
a template without an English entry fails tests/web/test_i18n.py. The core imports no web code:
the caller hands in its ``gettext``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Callable

Gettext = Callable[[str], str]
Pgettext = Callable[[str, str], str]


class Label(str):
    """A Vietnamese word from a fixed vocabulary used as a message parameter; translated when the
    message is rendered. ``context`` tells words apart whose English depends on where they stand
    (the role "Xem" is "Viewer", the button "Xem" is "Show")."""

    context: str | None

    def __new__(cls, text: str, context: str | None = None) -> "Label":
        label = super().__new__(cls, text)
        label.context = context or getattr(text, "context", None)
        return label

    def render(self, gettext: Gettext, pgettext: Pgettext | None = None) -> str:
        if self.context and pgettext is not None:
            return pgettext(self.context, str(self))
        return gettext(str(self))


class Phrase(str):
    """Vietnamese text formatted from a template; it keeps the template and the parameters so that
    it can be rendered again in another language. Being a ``str``, it reads as the Vietnamese text.
    A parameter may be a Phrase itself (a label built from parts: "Câu hỏi {count}: nội dung")."""

    template: str
    params: dict

    def __new__(cls, template: str, params: dict | None = None) -> "Phrase":
        if isinstance(template, Phrase):
            return template
        params = dict(params or {})
        message = super().__new__(cls, template.format(**{name: _joined(value, _as_given) for name, value in params.items()})
                                  if params else template)
        message.template, message.params = str(template), params
        return message

    def render(self, gettext: Gettext, pgettext: Pgettext | None = None) -> str:
        template = gettext(self.template)
        if not self.params:
            return template

        def shown(value):
            return value.render(gettext, pgettext) if isinstance(value, (Label, Phrase)) else value

        return template.format(**{name: _joined(value, shown) for name, value in self.params.items()})


def _as_given(value):
    return value


def _joined(value, shown: Callable):
    """A collection parameter (the allowed values, the unknown ones; a dict's keys) reads "a, b, c"."""
    if isinstance(value, Collection) and not isinstance(value, (str, bytes)):
        return ", ".join(str(shown(item)) for item in value)
    return shown(value)


class DomainError(Exception):
    """Base of every error a service raises on purpose.

    ``message`` and ``fields`` are Vietnamese (``Phrase`` objects, which are ``str``); a ``field=``
    message shares the template, and the values of an explicit ``fields={...}`` dict are templates
    (formatted with the same parameters) or ``Phrase`` objects taken from other errors."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None, fields: dict[str, str] | None = None, **params):
        self.message = Phrase(message, params)
        super().__init__(self.message)
        self.fields = {name: Phrase(text, params) for name, text in (fields or {}).items()}
        if field:
            self.fields.setdefault(field, self.message)

    def translated(self, gettext: Gettext, pgettext: Pgettext | None = None) -> tuple[str, dict[str, str]]:
        """(message, {field: message}) rendered through the given ``gettext`` (and ``pgettext`` for
        labels with a context): the one way the web layer shows a domain error to a person."""
        return (self.message.render(gettext, pgettext),
                {name: text.render(gettext, pgettext) for name, text in self.fields.items()})


class ValidationError(DomainError):
    """Input that breaks a rule; ``fields`` maps field names to messages."""

    status = 422


class NotFound(DomainError):
    """The object does not exist, or the actor may not know it exists."""

    status = 404


class TooLarge(DomainError):
    """An upload beyond the configured size limit."""

    status = 413


class Forbidden(DomainError):
    """The actor can see the object but may not do this to it."""

    status = 403


class Conflict(DomainError):
    """The change collides with the current state (duplicate, wrong status, cycle)."""

    status = 409


class NeedsConfirmation(DomainError):
    """The change has consequences the actor must confirm (e.g. uninviting people)."""

    status = 409

    def __init__(self, message: str, *, preview: dict | None = None, **params):
        super().__init__(message, **params)
        self.preview = preview or {}
