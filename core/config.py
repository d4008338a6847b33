"""Settings from the environment, validated once at start."""

from __future__ import annotations

import dataclasses
import functools
import os
import secrets
from pathlib import Path

from core.errors import ValidationError


@dataclasses.dataclass(frozen=True)
class Settings:
    database_url: str | None
    var_dir: Path
    secret_key: bytes
    max_upload_bytes: int
    series_horizon_months: int
    late_after_minutes: int
    plugins_toml: Path
    sqlite_path: Path
    default_timezone: str = "Asia/Ho_Chi_Minh"
    # personal-data retention, in days (see core/services/retention.py)
    retain_audit_days: int = 1095
    retain_roster_days: int = 1825
    retain_events_days: int = 90
    retain_material_versions_days: int = 365
    secure_cookies: bool = False  # True behind HTTPS (production)
    # peers whose X-Forwarded-For is believed (the reverse proxy); everyone else is the client
    trusted_proxies: str = "127.0.0.1,::1"
    public_url: str = "http://127.0.0.1:8000"  # how people reach the site: links in messages, QR codes

    @property
    def is_postgres(self) -> bool:
        return bool(self.database_url) and self.database_url.split(":", 1)[0] in {"postgres", "postgresql"}

    @property
    def content_dir(self) -> Path:
        return self.var_dir / "content"


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError("Biến môi trường {name} phải là số nguyên, nhận được {raw!r}", field=name, name=name,
                              raw=raw) from None
    if value <= 0:
        raise ValidationError("Biến môi trường {name} phải lớn hơn 0", field=name, name=name)
    return value


def _secret_key(var_dir: Path) -> bytes:
    """HOINGHI_SECRET_KEY, or a random key kept in var/secret_key (created once, mode 0600)."""
    raw = os.environ.get("HOINGHI_SECRET_KEY")
    if raw:
        if len(raw) < 32:
            raise ValidationError("HOINGHI_SECRET_KEY phải dài ít nhất 32 ký tự", field="HOINGHI_SECRET_KEY")
        return raw.encode()
    path = var_dir / "secret_key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()


def load_settings() -> Settings:
    var_dir = Path(os.environ.get("HOINGHI_VAR_DIR", "var")).resolve()
    database_url = os.environ.get("DATABASE_URL") or None
    if database_url and database_url.split(":", 1)[0] not in {"postgres", "postgresql", "sqlite"}:
        raise ValidationError(
            "DATABASE_URL phải bắt đầu bằng postgres:// (hoặc bỏ trống để dùng SQLite nhúng)", field="DATABASE_URL"
        )
    sqlite_path = var_dir / "hoinghi.sqlite"
    public_url = (os.environ.get("HOINGHI_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/")
    if database_url and database_url.startswith("sqlite"):
        # sqlite:///relative/file or sqlite:////absolute/file, as SQLAlchemy spells it
        sqlite_path = Path(database_url.split(":///", 1)[-1]).resolve()
        database_url = None
    return Settings(
        database_url=database_url,
        var_dir=var_dir,
        secret_key=_secret_key(var_dir),
        max_upload_bytes=_int_env("HOINGHI_MAX_UPLOAD_MB", 50) * 1024 * 1024,
        series_horizon_months=_int_env("HOINGHI_SERIES_HORIZON_MONTHS", 12),
        late_after_minutes=_int_env("HOINGHI_LATE_AFTER_MINUTES", 15),
        plugins_toml=Path(os.environ.get("HOINGHI_PLUGINS_TOML", "plugins.toml")).resolve(),
        sqlite_path=sqlite_path,
        retain_audit_days=_int_env("HOINGHI_RETAIN_AUDIT_DAYS", 1095),
        retain_roster_days=_int_env("HOINGHI_RETAIN_ROSTER_DAYS", 1825),
        retain_events_days=_int_env("HOINGHI_RETAIN_EVENTS_DAYS", 90),
        retain_material_versions_days=_int_env("HOINGHI_RETAIN_MATERIAL_VERSIONS_DAYS", 365),
        # Secure cookies behind HTTPS: on by default when the public address is https://
        secure_cookies=os.environ.get("HOINGHI_SECURE_COOKIES", "1" if public_url.startswith("https://") else "0") == "1",
        trusted_proxies=os.environ.get("HOINGHI_TRUSTED_PROXIES", "127.0.0.1,::1"),
        public_url=public_url,
    )


@functools.cache
def get_settings() -> Settings:
    return load_settings()


def reset_settings() -> None:
    """Forget cached settings (tests change the environment between runs)."""
    get_settings.cache_clear()
