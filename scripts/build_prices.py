"""Build the bundled price tables from a LiteLLM price file.

Run from the repository root::

    python -m scripts.build_prices [PATH]

PATH defaults to the 2026-07-24 mirror in `../shared/data`. The script writes
`plugins/cs_<provider>/prices.json` for the five bundled providers and
`docs/pricing-sources.md`. Its output depends only on the input file, so running it
twice gives the same files.
"""

import argparse
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cs_core.pricefile import parse_litellm
from cs_core.pricing import load_table

REPO = Path(__file__).resolve().parents[1]
DEFAULT_INPUT = REPO.parent / "shared" / "data" / "litellm-prices-2026-07-24.json"
GENERATED = "2026-07-24"
LABEL = f"litellm {GENERATED}"
PROVIDERS = ("anthropic", "openai", "google", "mistral", "deepseek")

# The original cs's 25 model keys (CLI-CONTRACT.md, "Built-in prices"): each must
# be a model id of its provider's table, not only an alias.
CONTRACT_KEYS = {
    "anthropic": (
        "claude-opus-4-6",
        "claude-sonnet-4-5",
        "claude-sonnet-4",
        "claude-haiku-3.5",
    ),
    "openai": (
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-4.1-nano",
        "gpt-5",
        "gpt-5-mini",
        "gpt-5-codex",
        "gpt-5.1-codex",
        "gpt-5.1-codex-max",
        "gpt-5.1-codex-mini",
        "gpt-5.2-codex",
        "gpt-5.3-codex",
        "codex-mini-latest",
        "o3",
        "o4-mini",
    ),
    "google": ("gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.0-flash"),
    "deepseek": ("deepseek-r1", "deepseek-v3"),
    "mistral": (),
}

# Prices not taken as-is from one LiteLLM key. An entry either copies the price of
# a model of the same table (`from`, possibly itself) or states it (`price`), may
# correct some rates (`set`), and says why in `note`. `aliases` are other ids of
# the same model; `same_if_identical` ids become aliases only if the file prices
# them identically.
OVERRIDES: dict[str, dict[str, dict[str, Any]]] = {
    "anthropic": {
        "claude-sonnet-4": {
            "from": "claude-sonnet-4-20250514",
            "source": f"{LABEL}: claude-sonnet-4-20250514",
            "note": "The file lists Claude Sonnet 4 only under its dated id.",
            "aliases": ["claude-sonnet-4-0"],
            "same_if_identical": ["claude-4-sonnet-20250514"],
        },
        "claude-haiku-3.5": {
            "price": {
                "input": "0.8",
                "output": "4",
                "cacheRead": "0.08",
                "cacheWrite": "1",
                "cacheWrite1h": "1.6",
                "maxInputTokens": 200000,
            },
            "source": "Anthropic list price at retirement",
            "note": (
                "Claude Haiku 3.5 is retired and gone from the file; this is "
                "Anthropic's last list price for it."
            ),
            # Anthropic's API ids for Claude Haiku 3.5, which agent logs carry.
            "aliases": ["claude-3-5-haiku-20241022", "claude-3-5-haiku-latest"],
        },
        # The file gives these two Sonnet's $6 1-hour cache write; Anthropic bills
        # a 1-hour write at twice the input rate.
        "claude-3-haiku-20240307": {
            "from": "claude-3-haiku-20240307",
            "set": {"cacheWrite1h": "0.5"},
            "source": f"{LABEL}: claude-3-haiku-20240307, 1h cache write corrected",
            "note": (
                "The file's 1-hour cache write ($6) is Sonnet's; Anthropic lists "
                "$0.50 (2x input)."
            ),
        },
        "claude-3-opus-20240229": {
            "from": "claude-3-opus-20240229",
            "set": {"cacheWrite1h": "30"},
            "source": f"{LABEL}: claude-3-opus-20240229, 1h cache write corrected",
            "note": (
                "The file's 1-hour cache write ($6) is Sonnet's; Anthropic lists "
                "$30 (2x input)."
            ),
        },
    },
    "deepseek": {
        "deepseek-r1": {
            "from": "deepseek-r1",
            "source": f"{LABEL}: deepseek/deepseek-r1",
            "note": (
                "DeepSeek's last R1 list price; the API's deepseek-reasoner now "
                "serves a later model."
            ),
        },
        "deepseek-v3": {
            "from": "deepseek-v3",
            "source": f"{LABEL}: deepseek/deepseek-v3",
            "note": (
                "DeepSeek's last V3 list price; the API's deepseek-chat now serves "
                "a later model."
            ),
        },
    },
}

# A dated snapshot id: `K-YYYYMMDD`, `K-YYYY-MM-DD` or `K-MMDD`.
DATED = re.compile(r"^(?P<base>.+)-(?:\d{8}|\d{4}-\d{2}-\d{2}|\d{4})$")

# Fields that describe an entry rather than price it.
NOT_PRICES = frozenset({"aliases", "source"})

SOURCE_NOTE = (
    "LiteLLM's model_prices_and_context_window.json, public mirror dated "
    f"{GENERATED} (../shared/data/litellm-prices-{GENERATED}.json); per-token USD "
    "x 1,000,000. Each model's `source` names the key it came from. A dated "
    "snapshot (K-YYYYMMDD, K-YYYY-MM-DD, K-MMDD) whose rates, tiers and context "
    "size all equal those of its undated id K is listed among K's aliases."
)


def build_tables(data: Mapping[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """Return each bundled provider's table, model id to price, ids sorted."""
    entries, _ = parse_litellm(data, label=LABEL)
    tables: dict[str, dict[str, dict[str, Any]]] = {p: {} for p in PROVIDERS}
    for key, price in entries.items():
        provider, model = key.split("/", 1)
        if provider in tables:
            tables[provider][model] = price

    for provider, table in tables.items():
        apply_overrides(table, OVERRIDES.get(provider, {}))
        fold_dated_aliases(table)
        check_table(provider, table)
    return {p: dict(sorted(t.items())) for p, t in tables.items()}


def apply_overrides(
    table: dict[str, dict[str, Any]], overrides: Mapping[str, Mapping[str, Any]]
) -> None:
    """Add or replace the models that OVERRIDES names."""
    for model, spec in overrides.items():
        base = table[spec["from"]] if "from" in spec else spec["price"]
        price = {**prices_only(base), **spec.get("set", {})}
        price["source"] = spec["source"]
        table[model] = price
        for alias in spec.get("aliases", ()):
            add_alias(table, model, alias)
        for other in spec.get("same_if_identical", ()):
            fold_if_identical(table, model, other)


def fold_dated_aliases(table: dict[str, dict[str, Any]]) -> None:
    """Make each dated id an alias of its undated id when their prices match."""
    for model in sorted(table):
        match = DATED.match(model)
        if match and match["base"] in table:
            fold_if_identical(table, match["base"], model)


def fold_if_identical(table: dict[str, dict[str, Any]], model: str, other: str) -> None:
    """Turn model id `other` into an alias of `model` if both price the same."""
    if other in table and prices_only(table[other]) == prices_only(table[model]):
        del table[other]
        add_alias(table, model, other)


def add_alias(table: dict[str, dict[str, Any]], model: str, alias: str) -> None:
    """List `alias` as another id of `model`."""
    if alias in table:
        raise SystemExit(f"alias {alias!r} of {model!r} is a model of its own")
    table[model]["aliases"] = sorted({*table[model].get("aliases", ()), alias})


def prices_only(price: Mapping[str, Any]) -> dict[str, Any]:
    """Return a price without the fields that only describe it."""
    return {k: v for k, v in price.items() if k not in NOT_PRICES}


def check_table(provider: str, table: Mapping[str, Mapping[str, Any]]) -> None:
    """Fail unless the contract's keys are model ids and every name is unique."""
    missing = [m for m in CONTRACT_KEYS.get(provider, ()) if m not in table]
    if missing:
        raise SystemExit(f"{provider}: contract models missing: {missing}")
    names = [a for price in table.values() for a in price.get("aliases", ())]
    clashes = sorted({n for n in names if n in table or names.count(n) > 1})
    if clashes:
        raise SystemExit(f"{provider}: names listed twice: {clashes}")


def table_document(provider: str, models: Mapping[str, Any]) -> dict[str, Any]:
    """Return the JSON document of one provider's `prices.json`."""
    sources = {LABEL: SOURCE_NOTE}
    for model, spec in OVERRIDES.get(provider, {}).items():
        sources[f"{model}: {spec['source']}"] = spec["note"]
    return {
        "provider": provider,
        "generated": GENERATED,
        "sources": sources,
        "models": models,
    }


def write_table(provider: str, models: Mapping[str, Any]) -> Path:
    """Write one provider's table and check that cs can load it."""
    path = REPO / "plugins" / f"cs_{provider}" / "prices.json"
    text = json.dumps(table_document(provider, models), indent=2)
    path.write_text(text + "\n", encoding="utf-8")
    load_table(path)
    return path


def sources_markdown(tables: Mapping[str, Mapping[str, Any]]) -> str:
    """Return `docs/pricing-sources.md`: where each built-in price came from."""
    lines = [
        "# Where the built-in prices come from",
        "",
        "Generated by `scripts/build_prices.py`; change the script, not this page.",
        "Rates are USD per million tokens.",
        "",
        f"Source `{LABEL}`: {SOURCE_NOTE}",
        "",
        "| Provider | Models | Aliases | Table | As of |",
        "|---|---|---|---|---|",
    ]
    for provider, models in tables.items():
        aliases = sum(len(p.get("aliases", ())) for p in models.values())
        lines.append(
            f"| {provider} | {len(models)} | {aliases} "
            f"| `plugins/cs_{provider}/prices.json` | {GENERATED} |"
        )
    lines += [
        "",
        "## Prices not taken as-is from one LiteLLM key",
        "",
        "| Provider | Model | Input | Output | Source | Why |",
        "|---|---|---|---|---|---|",
    ]
    for provider, overrides in OVERRIDES.items():
        for model, spec in overrides.items():
            price = tables[provider][model]
            lines.append(
                f"| {provider} | `{model}` | {price['input']} | {price['output']} "
                f"| {spec['source']} | {spec['note']} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Read the price file and write every table and the sources page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_INPUT)
    args = parser.parse_args(argv)

    data = json.loads(args.path.read_text(encoding="utf-8"))
    tables = build_tables(data)
    for provider, models in tables.items():
        print(f"{write_table(provider, models).relative_to(REPO)}: {len(models)}")
    docs = REPO / "docs" / "pricing-sources.md"
    docs.write_text(sources_markdown(tables), encoding="utf-8")


if __name__ == "__main__":
    main()
