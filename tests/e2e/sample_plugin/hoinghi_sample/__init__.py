"""A third-party plugin: its own table, route, hook and migration."""

LABEL = "Ghi chú mẫu"
REQUIRES: tuple[str, ...] = ()
