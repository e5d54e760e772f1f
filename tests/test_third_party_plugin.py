"""The example plugin of docs/plugins.md, installed through the entry-point group
the way pip installs it, adds a provider's prices, an export format and a command."""

import sys
from pathlib import Path

import pytest

from tests.conftest import BUNDLED

EXAMPLE = Path(__file__).parent.parent / "examples" / "cs-example-plugin"


@pytest.fixture
def example_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Install the example as a distribution: its module and its dist-info."""
    site = tmp_path / "site"
    dist_info = site / "cs_example_plugin-1.0.0.dist-info"
    dist_info.mkdir(parents=True)
    (site / "cs_example_plugin.py").write_text(
        (EXAMPLE / "cs_example_plugin.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: cs-example-plugin\nVersion: 1.0.0\n"
    )
    (dist_info / "entry_points.txt").write_text(
        "[codesession]\nexample = cs_example_plugin\n"
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("CS_LOAD_PLUGINS", BUNDLED + ",example")
    yield site
    sys.modules.pop("cs_example_plugin", None)


def test_example_plugin_prices_a_new_provider(
    example_installed, git_repo, run_cs
) -> None:
    run_cs("start", "plugin", "--json", cwd=git_repo)

    result = run_cs(
        "log-ai", "-p", "acme", "-m", "acme-l", "--prompt-tokens", "1000",
        "--completion-tokens", "500", "--json", cwd=git_repo,
    )  # fmt: skip

    assert result.json["logged"]["model"] == "acme-large"
    assert result.json["logged"]["cost"] == 0.0045
    assert result.json["pricing"]["source"] == "built-in"


def test_example_plugin_adds_an_export_format(
    example_installed, git_repo, run_cs
) -> None:
    run_cs("start", "a | b", "--json", cwd=git_repo)
    run_cs(
        "log-ai",
        "-p",
        "acme",
        "-m",
        "acme-small",
        "-c",
        "0.25",
        "-t",
        "10",
        cwd=git_repo,
    )

    result = run_cs("export", "--format", "markdown", cwd=git_repo)

    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "| id | name | status | cost (USD) |",
        "|---|---|---|---|",
        "| 1 | a \\| b | active | 0.25 |",
    ]


def test_hook_register_commands(example_installed, run_cs) -> None:
    result = run_cs("hello", "--json")

    assert result.json["hello"] == "from cs-example-plugin"


def test_example_plugin_is_listed_with_its_version_and_hooks(
    example_installed, run_cs
) -> None:
    listed = {p["name"]: p for p in run_cs("plugins", "--json").json["plugins"]}

    assert listed["example"]["version"] == "1.0.0"
    assert listed["example"]["hooks"] == [
        "register_commands", "register_output_formats", "register_price_sources",
    ]  # fmt: skip


def test_unknown_format_lists_the_available_ones(example_installed, run_cs) -> None:
    result = run_cs("export", "--format", "xml", "--json")

    assert result.json["error"]["code"] == "invalid_input"
    assert "csv, json, markdown" in result.json["error"]["message"]
