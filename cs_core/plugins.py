"""The plugin manager: finds plugins through one entry-point group and asks them
for what they contribute.

Scanning every installed distribution for entry points costs about 50 ms, most of
the budget of `cs log-ai`. The result is cached in the data folder, keyed on the
modification times of the `sys.path` folders, which change whenever a package is
installed or removed.

`CS_LOAD_PLUGINS` (a comma-separated list of entry-point names, empty for none)
limits which plugins load; tests use it so that whatever else is installed on the
machine stays out.
"""

import importlib
import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import pluggy

from . import hookspecs
from .errors import CsError, PluginError
from .hookspecs import PROJECT_NAME

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = PROJECT_NAME
LOAD_ENV = "CS_LOAD_PLUGINS"
_CACHE_VERSION = 1

_pm: pluggy.PluginManager | None = None
_dist_versions: dict[str, str | None] = {}


class EntryPoint(NamedTuple):
    """One plugin entry point: its name, module and distribution version."""

    name: str
    value: str
    version: str | None


def get_plugin_manager() -> pluggy.PluginManager:
    """Return the process's plugin manager, loading plugins on first use.

    Raises:
        PluginError: A plugin failed to import or implements an unknown hook.
    """
    global _pm
    if _pm is None:
        pm = pluggy.PluginManager(PROJECT_NAME)
        pm.add_hookspecs(hookspecs)
        for entry in _selected(entry_points()):
            pm.register(_import(entry), name=entry.name)
            _dist_versions[entry.name] = entry.version
        try:
            pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"plugin '{exc.plugin}' is invalid: {exc}") from None
        _pm = pm
    return _pm


def plugin_version(name: str) -> str | None:
    """Return the distribution version a loaded plugin came from."""
    return _dist_versions.get(name)


def _selected(entries: list[EntryPoint]) -> list[EntryPoint]:
    wanted = os.environ.get(LOAD_ENV)
    if wanted is None:
        return entries
    names = {name.strip() for name in wanted.split(",") if name.strip()}
    return [entry for entry in entries if entry.name in names]


def _import(entry: EntryPoint) -> Any:
    module_name, _, attr = entry.value.partition(":")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, attr) if attr else module
    except Exception as exc:  # a broken plugin must not crash cs with a traceback
        raise PluginError(f"plugin '{entry.name}' failed to load: {exc}") from None


def entry_points() -> list[EntryPoint]:
    """Return the group's entry points, from the cache when it is current."""
    from .db import data_home

    cache = data_home() / "cache" / "entry-points.json"
    key = _path_fingerprint()
    cached = _read_cache(cache, key)
    if cached is not None:
        return cached
    found = _scan_entry_points()
    # Only a folder that a real command created gets a cache: `cs --help` and
    # `cs --version` must create nothing.
    if cache.parent.parent.is_dir():
        _write_cache(cache, key, found)
    return found


def _scan_entry_points() -> list[EntryPoint]:
    from importlib.metadata import entry_points as all_entry_points

    found = []
    for ep in all_entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        found.append(EntryPoint(ep.name, ep.value, dist.version if dist else None))
    return sorted(found, key=lambda entry: entry.name)


def _path_fingerprint() -> list[list[Any]]:
    stamps = []
    # Relative entries ("" for the current folder) change with every command's
    # folder and hold no installed distributions.
    for folder in filter(os.path.isabs, sys.path):
        try:
            stamps.append([folder, os.stat(folder or ".").st_mtime_ns])
        except OSError:
            stamps.append([folder, None])
    return stamps


def _read_cache(path: Path, key: list[list[Any]]) -> list[EntryPoint] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("version") != _CACHE_VERSION or data.get("key") != key:
        return None
    return [EntryPoint(*item) for item in data["entryPoints"]]


def _write_cache(path: Path, key: list[list[Any]], found: list[EntryPoint]) -> None:
    data = {
        "version": _CACHE_VERSION,
        "key": key,
        "entryPoints": [[e.name, e.value, e.version] for e in found],
    }
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            json.dump(data, stream)
        os.replace(tmp, path)
    except OSError as exc:
        # Only a cache: a read-only data folder costs speed, not correctness.
        log.debug("cannot write plugin cache %s: %s", path, exc)


@dataclass
class Registry:
    """What the plugins registered through one hook, by name, with their owners."""

    hook: str
    items: dict[str, Any] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)


def collect(
    hook_name: str,
    key: Callable[..., str],
    make: Callable[..., Any] | None = None,
) -> Registry:
    """Call a `register_*` hook on every plugin and gather what they register.

    Args:
        hook_name: The hook, e.g. "register_price_sources".
        key: Given the arguments of one `register` call, returns the name the
            item is registered under.
        make: Given the same arguments, builds the item; by default the item is
            the first argument.

    Raises:
        PluginError: A plugin raised, or two registered the same name.
    """
    registry = Registry(hook_name)
    caller = getattr(get_plugin_manager().hook, hook_name)
    # get_hookimpls() lists plugins in registration (load) order.
    for impl in caller.get_hookimpls():
        plugin = impl.plugin_name

        def register(*args: Any, _plugin: str = plugin, **kwargs: Any) -> None:
            name = key(*args, **kwargs)
            if name in registry.items:
                raise PluginError(
                    f"plugin '{_plugin}' registers '{name}', already registered by "
                    f"plugin '{registry.owners[name]}'"
                )
            registry.items[name] = make(*args, **kwargs) if make else args[0]
            registry.owners[name] = _plugin

        call_plugin(plugin, impl.function, register=register)
    return registry


def call_plugin(plugin: str, fn: Callable[..., Any], /, **kwargs: Any) -> Any:
    """Call into plugin code, turning any failure into a `PluginError`."""
    try:
        return fn(**kwargs)
    except CsError:
        raise
    except Exception as exc:  # a plugin's bug is reported, never a traceback
        raise PluginError(f"plugin '{plugin}' failed: {exc}", plugin=plugin) from None


def hooks_of(plugin: object) -> list[str]:
    """Return the names of the hooks a registered plugin implements."""
    pm = get_plugin_manager()
    return sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])


def price_sources() -> dict[str, Any]:
    """Return every registered `PriceSource`, by provider name."""
    return collect("register_price_sources", lambda source: source.provider).items


def vcs_backends() -> list[Any]:
    """Return the registered VCS backends, in load order."""
    return list(
        collect("register_vcs_backends", lambda backend: backend.name).items.values()
    )


def output_formats() -> Registry:
    """Return the registered export formats, by name."""
    return collect("register_output_formats", lambda fmt: fmt.name)


def alert_sinks() -> Registry:
    """Return the registered alert sinks, by kind."""
    return collect("register_alert_sinks", lambda sink: sink.kind)


def dashboards() -> Registry:
    """Return the registered dashboards, by name."""
    return collect("register_dashboards", lambda dashboard: dashboard.name)


def plugin_commands() -> Registry:
    """Return plugin commands: name to `(target, help)`."""
    return collect(
        "register_commands",
        lambda name, target, help=None: name,
        lambda name, target, help=None: (target, help),
    )
