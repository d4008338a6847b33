"""The plugin's tables (prefixed ``ical_``)."""

from __future__ import annotations

from piccolo.columns import Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class IcalVeventCache(Table, tablename="ical_vevent_cache"):
    """The serialised, recipient-independent part of one calendar item ("conference:12" or
    "series:3"), valid while ``stamp`` matches the item's current state (its version, revision,
    occurrences): a feed of 1,000 conferences joins stored text instead of building 1,000 events."""

    key = Varchar(length=64, unique=True)
    stamp = Varchar(length=255)
    body = Text()  # JSON, see plugins.ical.objects.CachedItem
    updated_at = Timestamptz(default=TimestamptzNow())
