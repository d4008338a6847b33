"""Domain errors. The web layer maps each class to one HTTP status in one place.

Messages are Vietnamese first: they reach organisers as they are.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})
        if field:
            self.fields.setdefault(field, message)


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

    def __init__(self, message: str, *, preview: dict | None = None):
        super().__init__(message)
        self.preview = preview or {}
