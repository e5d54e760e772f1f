"""The plugin manager: loading, the allow-list, the cache, and plugin failures."""

import inspect
import re
from pathlib import Path

import pytest

from cs_core import PluginError, hookimpl, hookspecs
from cs_core.plugins import collect, entry_points, get_plugin_manager

DOCS = Path(__file__).parent.parent / "docs" / "plugins.md"
TESTS = Path(__file__).parent


@pytest.fixture
def register_plugin():
    """Register plugin objects for one test and unregister them afterwards."""
    added = []

    def add(plugin: object, name: str) -> None:
        get_plugin_manager().register(plugin, name=name)
        added.append(plugin)

    yield add
    for plugin in added:
        get_plugin_manager().unregister(plugin)


def test_allow_list_limits_loaded_plugins(monkeypatch) -> None:
    monkeypatch.setenv("CS_LOAD_PLUGINS", "json,csv")

    names = {name for name, _ in get_plugin_manager().list_name_plugin()}

    assert names == {"json", "csv"}


def test_empty_allow_list_loads_nothing(monkeypatch) -> None:
    monkeypatch.setenv("CS_LOAD_PLUGINS", "")

    assert get_plugin_manager().list_name_plugin() == []


def test_entry_points_are_cached_in_the_data_folder(cs_home: Path) -> None:
    cs_home.mkdir()
    first = entry_points()

    cache = cs_home / "cache" / "entry-points.json"
    assert cache.exists()
    assert entry_points() == first
    assert {"anthropic", "git", "json"} <= {entry.name for entry in first}


def test_stale_cache_is_rescanned(cs_home: Path) -> None:
    cs_home.mkdir()
    entry_points()
    cache = cs_home / "cache" / "entry-points.json"
    cache.write_text('{"version": 1, "key": [], "entryPoints": []}')

    assert {"anthropic", "git"} <= {entry.name for entry in entry_points()}


def test_a_plugin_that_raises_becomes_a_plugin_error(register_plugin, run_cs) -> None:
    class Broken:
        @hookimpl
        def register_output_formats(self, register):
            raise RuntimeError("boom")

    register_plugin(Broken(), "broken")

    result = run_cs("export", "--json")

    assert result.exit_code == 1
    assert result.json["error"]["code"] == "plugin_error"
    assert result.json["error"]["message"] == "plugin 'broken' failed: boom"
    assert result.json["error"]["plugin"] == "broken"


def test_duplicate_names_are_rejected(register_plugin) -> None:
    class SecondJson:
        name = "json"

        @hookimpl
        def register_output_formats(self, register):
            register(self)

    register_plugin(SecondJson(), "second-json")

    with pytest.raises(PluginError, match="already registered by plugin 'json'"):
        collect("register_output_formats", lambda fmt: fmt.name)


def test_misspelt_hookimpl_fails_loudly(register_plugin) -> None:
    class Misspelt:
        @hookimpl
        def register_output_format(self, register):  # missing "s"
            raise AssertionError("never called")

    register_plugin(Misspelt(), "misspelt")

    with pytest.raises(Exception, match="unknown hook"):
        get_plugin_manager().check_pending()


def test_broken_plugin_import_is_reported(tmp_path, monkeypatch, run_cs) -> None:
    site = tmp_path / "site"
    (site / "bad_plugin-1.0.dist-info").mkdir(parents=True)
    (site / "bad_plugin-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: bad-plugin\nVersion: 1.0\n"
    )
    (site / "bad_plugin-1.0.dist-info" / "entry_points.txt").write_text(
        "[codesession]\nbad = bad_plugin_module\n"
    )
    (site / "bad_plugin_module.py").write_text(
        "raise ImportError('missing dependency')\n"
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("CS_LOAD_PLUGINS", "bad")

    result = run_cs("plugins", "--json")

    assert result.json["error"]["code"] == "plugin_error"
    assert "bad" in result.json["error"]["message"]


def test_plugins_command_lists_bundled_plugins(run_cs) -> None:
    listed = {
        p["name"]: p["hooks"] for p in run_cs("plugins", "--json").json["plugins"]
    }

    assert listed["openai"] == ["register_price_sources"]
    assert listed["git"] == ["register_vcs_backends"]
    assert listed["csv"] == ["register_output_formats"]


def hookspec_names() -> list[str]:
    return sorted(
        name
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(fn, "codesession_spec")
    )


@pytest.mark.parametrize("hook", hookspec_names())
def test_every_hook_has_a_test(hook: str) -> None:
    sources = "\n".join(p.read_text(encoding="utf-8") for p in TESTS.rglob("test_*.py"))

    assert f"def test_hook_{hook}(" in sources


@pytest.mark.parametrize("hook", hookspec_names())
def test_every_hook_is_documented_with_its_signature(hook: str) -> None:
    docs = DOCS.read_text(encoding="utf-8")
    params = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)

    assert re.search(rf"^## `?{hook}", docs, re.M), f"no section for {hook}"
    assert f"{hook}({params})" in docs
