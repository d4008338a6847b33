"""Fixtures of the email plugin's tests: a real SMTP server and a deployment configured for it."""

from __future__ import annotations

import pytest

import plugins.email.hooks
from core.config import reset_settings
from core.plugins import build_plugin_host
from tests.plugins.email.mailserver import running_mailserver


@pytest.fixture
def mailserver():
    with running_mailserver(auth=True) as server:
        yield server


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture
def configure_email(tmp_path, monkeypatch):
    """configure_email(settings, extra=[(name, module)]) -> a plugin host with the email plugin."""

    def configure(settings: dict, *, extra=()):
        path = tmp_path / "plugins.toml"
        lines = ["[plugins.email]", 'default = "on"', "", "[plugins.email.settings]"]
        lines += [f"{key} = {_toml(value)}" for key, value in settings.items()]
        for name, _ in extra:  # throw-away plugins are on everywhere
            lines += ["", f"[plugins.{name}]", 'default = "on"']
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        monkeypatch.setenv("HOINGHI_PLUGINS_TOML", str(path))
        reset_settings()
        return build_plugin_host(plugins_toml=path, extra=[("email", plugins.email.hooks), *extra], discover=False)

    return configure


def smtp(server, **extra) -> dict:
    return {"smtp_host": "127.0.0.1", "smtp_port": server.port, "smtp_security": "none", "smtp_username": "hoinghi",
            "smtp_password": "mail-pass-4242", "from_address": "thongbao@tinhuy.example.vn", "from_name": "Ban Tuyên giáo",
            "retry_base_ms": 5, "rate_per_second": 1000, **extra}
