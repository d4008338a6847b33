"""What a person types must fit its column: PostgreSQL refuses a string longer than its varchar
(SQLite would store it), so the services check first and refuse beside the field, on both
databases, instead of failing inside the transaction."""

from __future__ import annotations

from piccolo.columns import Varchar

from core.errors import ValidationError


def fit(value: str | None, column: Varchar, *, field: str) -> str | None:
    """``value`` as it is when it fits ``column``'s length; otherwise a ValidationError on ``field``."""
    if value is not None and len(value) > column.length:
        raise ValidationError("Dài quá {limit} ký tự.", field=field, limit=column.length)
    return value
