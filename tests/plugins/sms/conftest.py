"""Fixtures of the sms plugin's tests: a real local gateway and a deployment configured for it."""

from __future__ import annotations

import pytest

import plugins.sms.hooks
from core.config import reset_settings
from core.plugins import build_plugin_host
from plugins.sms.channel import forget_unit_options
from tests.plugins.sms.gateway import running_gateway

# one request at a time unless a test asks for more: planned failures then fall on known messages
FAST_RETRIES = {"retry_attempts": 3, "retry_base_ms": 10, "requeue_seconds": 120, "timeout_seconds": 1, "concurrency": 1}


@pytest.fixture
def gateway():
    with running_gateway() as running:
        yield running


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_plugins_toml(path, settings: dict, *, default: str = "on") -> None:
    lines = ["[plugins.sms]", f'default = "{default}"', "", "[plugins.sms.settings]"]
    lines += [f"{key} = {toml_value(value)}" for key, value in settings.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def configure_sms(tmp_path, monkeypatch):
    """configure_sms(gateway_url_settings...) -> a plugin host with the sms plugin as deployed."""

    def configure(settings: dict, *, default: str = "on"):
        path = tmp_path / "plugins.toml"
        write_plugins_toml(path, {**FAST_RETRIES, **settings}, default=default)
        monkeypatch.setenv("HOINGHI_PLUGINS_TOML", str(path))
        reset_settings()
        forget_unit_options()
        return build_plugin_host(plugins_toml=path, extra=[("sms", plugins.sms.hooks)], discover=False)

    return configure


def esms(gateway, **extra) -> dict:
    return {"preset": "esms_json", "url": f"{gateway.url}/esms", "api_key": "KEY-123456", "api_secret": "SECRET-abcdef",
            "sender_id": "TINH-UY", "public_url": "http://hoinghi.test", "rate_per_second": 1000, **extra}


def twilio(gateway, **extra) -> dict:
    return {"preset": "twilio_form", "url": f"{gateway.url}/twilio/{{{{account}}}}/Messages.json", "account": "AC42",
            "api_secret": "tw-token-987654", "sender_id": "+15005550006", "public_url": "http://hoinghi.test",
            "rate_per_second": 1000, **extra}


@pytest.fixture
async def smsc():
    from plugins.sms.channel import close_backends
    from tests.plugins.sms.smsc import running_smsc

    with running_smsc() as running:
        yield running
        # before the database closes (this fixture comes after ``db``): a session's reader still
        # recording a receipt would open a connection on a closed engine and keep it for good
        await close_backends()


@pytest.fixture(autouse=True)
async def _close_smpp_sessions():
    yield
    from plugins.sms.channel import close_backends

    await close_backends()


def smpp(smsc, **extra) -> dict:
    # a generous response timeout: on a loaded machine a submit_sm_resp through the SMSC's thread
    # may take seconds, and a timeout would count as a lost session (a second bind, a resubmit)
    return {"backend": "smpp", "smpp_host": "127.0.0.1", "smpp_port": smsc.port, "smpp_system_id": "hoinghi",
            "smpp_password": "pw771sec", "sender_id": "TINH-UY", "rate_per_second": 1000, "smpp_window": 4,
            "timeout_seconds": 60, **extra}
