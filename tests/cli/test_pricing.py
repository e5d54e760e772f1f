"""`cs pricing set` and `remove` write the same pricing.json the dashboard edits."""

import json


def test_set_then_remove_a_provider_price(run_cs, cs_home) -> None:
    stored = run_cs("pricing", "set", "m", "1", "2", "--provider", " OpenAI ",
                    "--cache-read", "0.5", "--json")  # fmt: skip
    saved = json.loads((cs_home / "pricing.json").read_text())
    removed = run_cs("pricing", "remove", "m", "--provider", "openai", "--json")
    again = run_cs("pricing", "remove", "m", "--provider", "openai", "--json")

    assert stored.json["key"] == "openai/m"
    assert saved == {"openai/m": {"input": "1", "output": "2", "cacheRead": "0.5"}}
    assert removed.json["removed"] == "openai/m"
    assert again.json["error"]["code"] == "invalid_input"
    assert json.loads((cs_home / "pricing.json").read_text()) == {}
