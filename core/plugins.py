"""The plugin manager: discovery, plugins.toml, per-unit enablement and hook callers.

Built by :func:`build_plugin_host` (never a module-level global). Installed plugins come from
entry points (group ``hoinghi.plugins``), registered sorted by name; ``check_pending`` makes a
misspelt hook fail at start-up. Per-unit state is tri-state in the database (on / off / no row
= inherit from the parent); the root's default, availability and locks come from plugins.toml.
A unit's hook caller comes from pluggy's ``subset_hook_caller``, cached by the set of disabled
plugins and dropped when the generation counter in the database moves.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import inspect
import sys
import time
import tomllib
from pathlib import Path
from typing import Any, Iterable

import pluggy

from core import clock, hookspecs
from core.access import Actor, require
from core.db import transaction
from core.errors import Conflict, Label, ValidationError
from core.services import audit
from core.services.units import get_unit
from core.tables import PluginGeneration, PluginState, Unit

ENTRY_POINT_GROUP = "hoinghi.plugins"
STATES = ("on", "off", "inherit")


class PluginConfigError(Exception):
    """plugins.toml is wrong; the message names the file and the key."""


@dataclasses.dataclass(frozen=True)
class PluginInfo:
    name: str
    label: str
    requires: tuple[str, ...]
    module: Any


@dataclasses.dataclass(frozen=True)
class PluginConfig:
    available: bool = True
    default: str = "off"  # for the root unit
    locked: bool = False  # units may not change it
    settings: dict = dataclasses.field(default_factory=dict)


def load_plugins_toml(path: Path, installed: dict[str, PluginInfo], schemas: dict[str, dict]) -> dict[str, PluginConfig]:
    """Read and validate plugins.toml; a missing file means every installed plugin available, off."""
    configs = {name: PluginConfig() for name in installed}
    if not path.exists():
        return configs
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise PluginConfigError(f"{path}: không đọc được TOML ({error})") from None
    unknown_top = set(data) - {"plugins"}
    if unknown_top:
        raise PluginConfigError(f"{path}: khoá không hợp lệ: {sorted(unknown_top)[0]} (chỉ có [plugins.<tên>])")
    for name, section in (data.get("plugins") or {}).items():
        where = f"{path}: plugins.{name}"
        if name not in installed:
            raise PluginConfigError(f"{where}: không có plugin tên {name!r} được cài đặt (có: {', '.join(sorted(installed)) or 'không'})")
        if not isinstance(section, dict):
            raise PluginConfigError(f"{where}: phải là một bảng")
        extra = set(section) - {"available", "default", "locked", "settings"}
        if extra:
            raise PluginConfigError(f"{where}.{sorted(extra)[0]}: khoá không hợp lệ")
        default = section.get("default", "off")
        if default not in ("on", "off"):
            raise PluginConfigError(f"{where}.default: phải là \"on\" hoặc \"off\", nhận được {default!r}")
        for key in ("available", "locked"):
            if key in section and not isinstance(section[key], bool):
                raise PluginConfigError(f"{where}.{key}: phải là true hoặc false")
        settings = section.get("settings", {})
        schema = schemas.get(name, {})
        for key, value in settings.items():
            spec = schema.get(key)
            if spec is None or spec.get("scope") != "deployment":
                raise PluginConfigError(f"{where}.settings.{key}: plugin không khai báo thiết lập cấp triển khai này")
            expected = {"str": str, "int": int, "bool": bool, "list": list}.get(spec.get("type", "str"), str)
            if not isinstance(value, expected):
                raise PluginConfigError(f"{where}.settings.{key}: phải có kiểu {spec.get('type', 'str')}")
        configs[name] = PluginConfig(available=section.get("available", True), default=default,
                                     locked=section.get("locked", False), settings=settings)
    return configs


def _info(name: str, module: Any) -> PluginInfo:
    """Metadata from the hooks module or its package: LABEL and REQUIRES."""
    package = sys.modules.get(getattr(module, "__package__", "") or "") if inspect.ismodule(module) else None
    label = getattr(module, "LABEL", None) or getattr(package, "LABEL", None) or name
    requires = tuple(getattr(module, "REQUIRES", None) or getattr(package, "REQUIRES", None) or ())
    return PluginInfo(name=name, label=label, requires=requires, module=module)


def _check_sync(pm: pluggy.PluginManager) -> None:
    """Contribution and firstresult hooks must be synchronous; refuse ``async def`` ones."""
    for name in dir(pm.hook):
        if name.startswith("_"):
            continue
        caller = getattr(pm.hook, name)
        if not isinstance(caller, pluggy.HookCaller) or name in hookspecs.LIFECYCLE_HOOKS:
            continue
        for impl in caller.get_hookimpls():
            if inspect.iscoroutinefunction(impl.function) or inspect.isasyncgenfunction(impl.function):
                raise PluginConfigError(
                    f"plugin {impl.plugin_name}: hook {name} phải là hàm đồng bộ (chỉ hook vòng đời mới được async)")


def _check_table_prefixes(pm: pluggy.PluginManager, infos: dict[str, PluginInfo]) -> None:
    """A plugin's tables are named after it (``qr_checkin_scan``), so they never collide."""
    for name in infos:
        others = [pm.get_plugin(other) for other in infos if other != name]
        for app_path in [app for apps in pm.subset_hook_caller("piccolo_apps", others)() for app in (apps or [])]:
            app_config = importlib.import_module(app_path).APP_CONFIG
            if app_config.app_name != name:
                raise PluginConfigError(f"plugin {name}: Piccolo app phải tên {name!r}, không phải {app_config.app_name!r}")
            for table in app_config.table_classes:
                if not table._meta.tablename.startswith(f"{name}_"):
                    raise PluginConfigError(f"plugin {name}: bảng {table._meta.tablename!r} phải bắt đầu bằng {name}_")


class UnitHooks:
    """The hook relay of one set of enabled plugins: ``hooks.menu_items(unit=...)``."""

    def __init__(self, pm: pluggy.PluginManager, disabled: frozenset[str]):
        self._pm = pm
        self._remove = [pm.get_plugin(name) for name in disabled if pm.get_plugin(name) is not None]
        self._callers: dict[str, Any] = {}

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        caller = self._callers.get(name)
        if caller is None:
            caller = self._callers[name] = self._pm.subset_hook_caller(name, self._remove)
        return caller


class PluginHost:
    """The plugin manager plus per-unit enablement."""

    def __init__(self, pm: pluggy.PluginManager, infos: dict[str, PluginInfo], configs: dict[str, PluginConfig]):
        self.pm = pm
        self.infos = infos
        self.configs = configs
        self._generation: int | None = None
        self._generation_read_at = 0.0  # time.monotonic() of the last read of the generation counter
        self._hooks: dict[frozenset[str], UnitHooks] = {}
        self._enabled: dict[str, frozenset[str]] = {}

    @property
    def available(self) -> list[str]:
        return sorted(name for name, config in self.configs.items() if config.available)

    async def _refresh(self, fresh_within: float) -> None:
        if self._generation is not None and time.monotonic() - self._generation_read_at < fresh_within:
            return
        row = await PluginGeneration.select(PluginGeneration.generation).first()
        self._generation_read_at = time.monotonic()
        generation = row["generation"] if row else 0
        if generation != self._generation:
            self._generation, self._hooks, self._enabled = generation, {}, {}

    async def enabled_for_path(self, unit_path: str, *, fresh_within: float = 0.0) -> frozenset[str]:
        """Plugins on for the unit at ``unit_path``: root default, then each ancestor's explicit
        state down to the unit (locked plugins keep the root default), then requirements.

        The switches are re-read when the database's generation counter moved, which is read at
        every call, or, with ``fresh_within``, when it was read more than that many seconds ago
        (a hot path: a switch made in another process is then seen that late; in this one, at once)."""
        await self._refresh(fresh_within)
        cached = self._enabled.get(unit_path)
        if cached is not None:
            return cached
        ids = [int(part) for part in unit_path.strip("/").split("/") if part]
        rows = await PluginState.select(PluginState.unit, PluginState.plugin, PluginState.state).where(PluginState.unit.is_in(ids)) if ids else []
        explicit = {(row["unit"], row["plugin"]): row["state"] for row in rows}
        enabled = set()
        for name in self.available:
            state = self.configs[name].default
            if not self.configs[name].locked:
                for unit_id in ids:
                    state = explicit.get((unit_id, name), state)
            if state == "on":
                enabled.add(name)
        changed = True
        while changed:  # a plugin is on only where everything it requires is on
            changed = False
            for name in list(enabled):
                if any(required not in enabled for required in self.infos[name].requires):
                    enabled.discard(name)
                    changed = True
        result = frozenset(enabled)
        self._enabled[unit_path] = result
        return result

    async def hooks_for_path(self, unit_path: str) -> UnitHooks:
        """The hook caller reaching only the plugins this unit enables (cached per disabled set)."""
        disabled = frozenset(self.infos) - await self.enabled_for_path(unit_path)
        hooks = self._hooks.get(disabled)
        if hooks is None:
            hooks = self._hooks[disabled] = UnitHooks(self.pm, disabled)
        return hooks

    async def hooks_for_unit(self, unit_id: int) -> UnitHooks:
        return await self.hooks_for_path((await get_unit(unit_id))["path"])

    async def states(self, actor: Actor, unit_id: int) -> list[dict]:
        """Each available plugin for a unit: its own setting, whether it is on, and why."""
        unit = await get_unit(unit_id)
        require(actor, "read", unit["path"], what=Label("đơn vị"))
        own = {row["plugin"]: row["state"] for row in await PluginState.select().where(PluginState.unit == unit_id)}
        enabled = await self.enabled_for_path(unit["path"])
        return [{"plugin": name, "label": self.infos[name].label, "setting": own.get(name, "inherit"),
                 "enabled": name in enabled, "locked": self.configs[name].locked, "requires": list(self.infos[name].requires)}
                for name in self.available]

    async def set_state(self, actor: Actor, unit_id: int, plugin: str, state: str) -> None:
        """Switch a plugin on, off, or back to inherit for a unit (admin of the unit)."""
        unit = await get_unit(unit_id)
        require(actor, "admin", unit["path"], what=Label("đơn vị"))
        if plugin not in self.available:
            raise ValidationError("Không có plugin {plugin!r} trên hệ thống này.", field="plugin", plugin=plugin)
        if state not in STATES:
            raise ValidationError("Trạng thái phải là một trong: {choices}.", field="state", choices=STATES)
        if self.configs[plugin].locked:
            raise Conflict("Plugin {plugin_label} bị khoá ở cấp triển khai; không đổi được theo đơn vị.",
                           plugin_label=Label(self.infos[plugin].label))
        async with transaction():
            await PluginState.delete().where((PluginState.unit == unit_id) & (PluginState.plugin == plugin))
            if state != "inherit":
                await PluginState.insert(PluginState(unit=unit_id, plugin=plugin, state=state, updated_at=clock.now()))
            await PluginGeneration.update({PluginGeneration.generation: PluginGeneration.generation + 1}).where(
                PluginGeneration.id.is_not_null())
            await audit.record(actor, "plugin.set_state", object_type="unit", object_id=unit_id, unit_id=unit_id,
                               plugin=plugin, state=state)
        self._generation = None  # this process sees its own switch at once, whatever ``fresh_within``
        if state == "off":
            await _cancel_pending_work(self, unit["path"], plugin)


async def _cancel_pending_work(host: PluginHost, unit_path: str, plugin: str) -> None:
    """Pending deliveries and jobs of the plugin for units where it is now off are dropped."""
    from core.jobs import cancel
    from core.tables import DomainEvent, EventDelivery, Job

    job_units = await Job.select(Job.unit_id).where(
        (Job.plugin == plugin) & Job.status.is_in(["pending", "running"])
        & Job.unit_id.is_in(Unit.select(Unit.id).where(Unit.path.like(f"{unit_path}%"))))
    off_units = []
    for unit_id in sorted({row["unit_id"] for row in job_units}):
        if plugin not in await host.enabled_for_path((await get_unit(unit_id))["path"]):
            off_units.append(unit_id)
    if off_units:
        await cancel(plugin=plugin, unit_ids=off_units)

    affected = Unit.select(Unit.id).where(Unit.path.like(f"{unit_path}%"))
    pending = await EventDelivery.select(EventDelivery.id, EventDelivery.event.unit_id.as_alias("unit_id")).where(
        (EventDelivery.plugin == plugin) & (EventDelivery.status == "pending")
        & EventDelivery.event.is_in(DomainEvent.select(DomainEvent.id).where(DomainEvent.unit_id.is_in(affected))))
    for row in pending:
        path = (await get_unit(row["unit_id"]))["path"]
        if plugin not in await host.enabled_for_path(path):
            await EventDelivery.update({EventDelivery.status: "skipped", EventDelivery.last_error: "plugin tắt cho đơn vị"}).where(
                EventDelivery.id == row["id"])


def installed_entry_points() -> list[importlib.metadata.EntryPoint]:
    return sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)


def build_plugin_host(*, plugins_toml: Path | None = None, extra: Iterable[tuple[str, Any]] = (), discover: bool = True) -> PluginHost:
    """Specs added, installed plugins registered sorted by name, plugins.toml validated."""
    from core.config import get_settings

    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs.AppSpecs)
    pm.add_hookspecs(hookspecs.UnitSpecs)
    found: list[tuple[str, Any]] = []
    if discover:
        found += [(ep.name, ep.load()) for ep in installed_entry_points()]
    found += list(extra)
    infos: dict[str, PluginInfo] = {}
    for name, module in sorted(found, key=lambda item: item[0]):
        if name in infos:
            raise PluginConfigError(f"hai plugin cùng tên {name!r}")
        pm.register(module, name=name)
        infos[name] = _info(name, module)
    for name, info in infos.items():
        missing = [required for required in info.requires if required not in infos]
        if missing:
            raise PluginConfigError(f"plugin {name} cần plugin chưa cài: {', '.join(missing)}")
    pm.check_pending()
    _check_sync(pm)
    _check_table_prefixes(pm, infos)
    schemas: dict[str, dict] = {}
    for name in infos:
        caller = pm.subset_hook_caller("settings_schema", [pm.get_plugin(other) for other in infos if other != name])
        schemas[name] = {key: value for result in caller() for key, value in (result or {}).items()}
    configs = load_plugins_toml(plugins_toml or get_settings().plugins_toml, infos, schemas)
    return PluginHost(pm, infos, configs)


def installed_piccolo_apps() -> list[str]:
    """Piccolo apps contributed by installed plugins (used by core.piccolo_conf)."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs.AppSpecs)
    pm.add_hookspecs(hookspecs.UnitSpecs)
    for ep in installed_entry_points():
        pm.register(ep.load(), name=ep.name)
    return [app for apps in pm.hook.piccolo_apps() for app in (apps or [])]


def _schema(host: PluginHost, plugin: str) -> dict[str, dict]:
    others = [host.pm.get_plugin(name) for name in host.infos if name != plugin]
    return {key: spec for result in host.pm.subset_hook_caller("settings_schema", others)() for key, spec in (result or {}).items()}


async def set_plugin_setting(host: PluginHost, actor: Actor, *, unit_id: int, plugin: str, key: str, value: Any) -> None:
    """A unit-scope setting of a plugin, validated against the plugin's settings schema."""
    from core.notifications import set_unit_setting

    if plugin not in host.infos:
        raise ValidationError("Không có plugin {plugin!r}.", field="plugin", plugin=plugin)
    spec = _schema(host, plugin).get(key)
    if spec is None or spec.get("scope") != "unit":
        raise ValidationError("Plugin {plugin} không có thiết lập theo đơn vị tên {key!r}.", field="key", plugin=plugin, key=key)
    expected = {"str": str, "int": int, "bool": bool, "list": list}.get(spec.get("type", "str"), str)
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ValidationError("Thiết lập {setting} phải có kiểu {type}.", field=key, setting=Label(spec.get('label', key)),
                              type=spec.get('type', 'str'))
    await set_unit_setting(actor, unit_id, f"plugin.{plugin}.{key}", value)


async def plugin_settings_form(host: PluginHost, actor: Actor, *, unit_id: int, plugin: str) -> list[dict]:
    """A plugin's settings for a unit, from its schema: unit-scope keys with the value in force
    (``own`` when the unit itself sets it), then deployment-scope keys from plugins.toml, read
    only, a secret's value replaced by whether it is set. Needs 'read' on the unit."""
    from core.tables import UnitSetting

    unit = await get_unit(unit_id)
    require(actor, "read", unit["path"], what=Label("đơn vị"))
    if plugin not in host.infos or plugin not in host.available:
        raise ValidationError("Không có plugin {plugin!r} trên hệ thống này.", field="plugin", plugin=plugin)
    own = {row["key"] for row in await UnitSetting.select(UnitSetting.key).where(
        (UnitSetting.unit == unit_id) & UnitSetting.key.like(f"plugin.{plugin}.%"))}
    fields = []
    for scope in ("unit", "deployment"):
        for key, spec in _schema(host, plugin).items():
            if spec.get("scope") != scope:
                continue
            value = await plugin_setting(host, unit_path=unit["path"], plugin=plugin, key=key)
            secret = bool(spec.get("secret"))
            fields.append({"key": key, "label": spec.get("label", key), "type": spec.get("type", "str"), "scope": scope,
                           "value": bool(value) if secret else value, "own": f"plugin.{plugin}.{key}" in own, "secret": secret})
    return fields


async def plugin_setting(host: PluginHost, *, unit_path: str, plugin: str, key: str) -> Any:
    """The unit's value (inherited from the nearest ancestor that sets it) or the schema default;
    deployment-scope keys come from plugins.toml."""
    from core.notifications import unit_setting

    spec = _schema(host, plugin).get(key)
    if spec is None:
        raise KeyError(f"{plugin}.{key}")
    if spec.get("scope") == "deployment":
        return host.configs[plugin].settings.get(key, spec.get("default"))
    return await unit_setting(unit_path, f"plugin.{plugin}.{key}", spec.get("default"))


async def call_each(host: PluginHost, hook: str, **kwargs) -> dict[str, str]:
    """Call an app-scoped hook on every installed plugin (clean-up runs even where a plugin is
    off), awaiting each result in turn; one plugin's failure is logged and does not stop the
    others. Returns {plugin: error} for the failures."""
    import logging

    failures: dict[str, str] = {}
    for impl in getattr(host.pm.hook, hook).get_hookimpls():
        try:
            result = impl.function(**kwargs)
            if inspect.isawaitable(result):
                await result
        except Exception as error:  # isolated per plugin, reported to the caller
            logging.getLogger("hoinghi.plugins").exception("plugin %s failed in %s", impl.plugin_name, hook)
            failures[impl.plugin_name] = repr(error)
    return failures


async def conferences_with_plugin(host: PluginHost, *, person_id: int, plugin: str) -> list[int]:
    """The conferences a person is invited to whose unit has ``plugin`` on (attendee pages show
    a plugin's content only for those)."""
    from core.tables import Invitation

    rows = await Invitation.select(Invitation.conference, Invitation.conference.unit.path.as_alias("path")).where(
        (Invitation.person == person_id) & (Invitation.status == "active"))
    return [row["conference"] for row in rows if plugin in await host.enabled_for_path(row["path"])]
