import math

import pytest

from cs_core.pricefile import parse_litellm
from cs_core.pricing import price_from_dict

GPT = {
    "litellm_provider": "openai",
    "mode": "chat",
    "input_cost_per_token": 2.5e-06,
    "output_cost_per_token": 1e-05,
}


def parse_one(fields, key="gpt-x"):
    entries, skipped = parse_litellm({key: fields})
    assert skipped == 0
    (price,) = entries.values()
    return price


@pytest.mark.parametrize(
    ("per_token", "per_million"),
    [
        (3e-06, "3"),
        (1e-05, "10"),
        (7.5e-08, "0.075"),
        (1.875e-08, "0.01875"),
        (3.625e-09, "0.003625"),
        (0.000168, "168"),
        (0, "0"),
        ("2.5e-06", "2.5"),
        (" 1.5e-07 ", "0.15"),
    ],
    ids=[
        "three",
        "ten-no-exponent",
        "small",
        "five-digits",
        "sub-cent",
        "large",
        "zero",
        "string-float",
        "string-with-spaces",
    ],
)
def test_rate_is_plain_decimal_per_million(per_token, per_million):
    fields = {**GPT, "input_cost_per_token": per_token}

    price = parse_one(fields)

    assert price["input"] == per_million


def test_entry_in_cs_shape_with_source():
    fields = {
        **GPT,
        "cache_read_input_token_cost": 1.25e-06,
        "max_input_tokens": 128000,
    }

    entries, skipped = parse_litellm({"gpt-4o": fields}, label="litellm 2026-07-24")

    assert skipped == 0
    assert entries == {
        "openai/gpt-4o": {
            "input": "2.5",
            "output": "10",
            "cacheRead": "1.25",
            "maxInputTokens": 128000,
            "source": "litellm 2026-07-24: gpt-4o",
        }
    }


def test_anthropic_cache_writes_and_1h_ttl_is_not_a_tier():
    fields = {
        "litellm_provider": "anthropic",
        "mode": "chat",
        "input_cost_per_token": 1e-06,
        "output_cost_per_token": 5e-06,
        "cache_read_input_token_cost": 1e-07,
        "cache_creation_input_token_cost": 1.25e-06,
        "cache_creation_input_token_cost_above_1hr": 2e-06,
    }

    price = parse_one(fields, "claude-haiku-4-5")

    assert price["cacheWrite"] == "1.25"
    assert price["cacheWrite1h"] == "2"
    assert "tiers" not in price


def test_long_context_tier_with_every_rate():
    fields = {
        "litellm_provider": "anthropic",
        "mode": "chat",
        "input_cost_per_token": 3e-06,
        "output_cost_per_token": 1.5e-05,
        "cache_read_input_token_cost": 3e-07,
        "cache_creation_input_token_cost": 3.75e-06,
        "cache_creation_input_token_cost_above_1hr": 6e-06,
        "input_cost_per_token_above_200k_tokens": 6e-06,
        "output_cost_per_token_above_200k_tokens": 2.25e-05,
        "cache_read_input_token_cost_above_200k_tokens": 6e-07,
        "cache_creation_input_token_cost_above_200k_tokens": 7.5e-06,
        "cache_creation_input_token_cost_above_1hr_above_200k_tokens": 1.2e-05,
    }

    price = parse_one(fields, "claude-sonnet-4-5")

    assert price["cacheWrite1h"] == "6"
    assert price["tiers"] == [
        {
            "above": 200000,
            "input": "6",
            "output": "22.5",
            "cacheRead": "0.6",
            "cacheWrite": "7.5",
            "cacheWrite1h": "12",
        }
    ]


@pytest.mark.parametrize(
    ("suffix", "above"),
    [("128k", 128000), ("200k", 200000), ("272k", 272000), ("128", 128000)],
    ids=["128k", "200k", "272k", "no-k-still-thousands"],
)
def test_tier_threshold_parsed_from_key_name(suffix, above):
    fields = {
        **GPT,
        f"input_cost_per_token_above_{suffix}_tokens": 5e-06,
        f"output_cost_per_token_above_{suffix}_tokens": 2e-05,
    }

    price = parse_one(fields)

    assert price["tiers"] == [{"above": above, "input": "5", "output": "20"}]


def test_tiers_sorted_and_missing_tier_rate_keeps_base():
    fields = {
        **GPT,
        "input_cost_per_token_above_512k_tokens": 1e-05,
        "input_cost_per_token_above_128k_tokens": 5e-06,
        "output_cost_per_token_above_128k_tokens": 2e-05,
    }

    price = parse_one(fields)

    assert price["tiers"] == [
        {"above": 128000, "input": "5", "output": "20"},
        {"above": 512000, "input": "10", "output": "10"},
    ]


def test_service_tiers_batches_and_other_modalities_ignored():
    fields = {
        **GPT,
        "input_cost_per_token_priority": 4.25e-06,
        "output_cost_per_token_flex": 5e-06,
        "input_cost_per_token_batches": 1.25e-06,
        "input_cost_per_token_above_200k_tokens_priority": 9e-06,
        "input_cost_per_audio_token": 4e-05,
        "input_cost_per_image": 0.01,
        "input_cost_per_character_above_128k_tokens": 1e-06,
        "search_context_cost_per_query": {"search_context_size_low": 0.03},
    }

    price = parse_one(fields)

    assert price == {"input": "2.5", "output": "10", "source": "litellm: gpt-x"}


def test_reasoning_rate():
    fields = {**GPT, "output_cost_per_reasoning_token": 1.5e-05}

    price = parse_one(fields)

    assert price["reasoning"] == "15"


@pytest.mark.parametrize(
    ("fields", "cache_read"),
    [
        ({"input_cost_per_token_cache_hit": 1.4e-07}, "0.14"),
        (
            {
                "input_cost_per_token_cache_hit": 1.4e-07,
                "cache_read_input_token_cost": 7e-08,
            },
            "0.07",
        ),
    ],
    ids=["legacy-only", "current-name-wins"],
)
def test_legacy_deepseek_cache_hit(fields, cache_read):
    price = parse_one({**GPT, **fields})

    assert price["cacheRead"] == cache_read


@pytest.mark.parametrize(
    ("key", "litellm_provider", "expected"),
    [
        ("claude-haiku-4-5", "anthropic", "anthropic/claude-haiku-4-5"),
        ("gpt-4o", "openai", "openai/gpt-4o"),
        ("ft:gpt-4o-2024-08-06", "openai", "openai/ft:gpt-4o-2024-08-06"),
        ("gemini/gemini-2.5-pro", "gemini", "google/gemini-2.5-pro"),
        ("gemini-2.5-pro", "vertex_ai-language-models", "google/gemini-2.5-pro"),
        ("mistral/codestral-latest", "mistral", "mistral/codestral-latest"),
        ("deepseek/deepseek-r1", "deepseek", "deepseek/deepseek-r1"),
        ("codestral/codestral-2405", "codestral", "codestral/codestral-2405"),
        ("openrouter/openai/gpt-4o", "openrouter", "openrouter/openai/gpt-4o"),
    ],
    ids=[
        "anthropic-bare",
        "openai-bare",
        "fine-tune",
        "gemini-studio",
        "gemini-vertex",
        "mistral",
        "deepseek",
        "other-provider-kept",
        "only-first-prefix-removed",
    ],
)
def test_key_named_provider_slash_model(key, litellm_provider, expected):
    fields = {**GPT, "litellm_provider": litellm_provider}

    entries, _ = parse_litellm({key: fields})

    assert list(entries) == [expected]


def test_provider_taken_from_key_prefix_when_missing():
    fields = {k: v for k, v in GPT.items() if k != "litellm_provider"}

    entries, _ = parse_litellm({"mistral/open-mistral-7b": fields})

    assert list(entries) == ["mistral/open-mistral-7b"]


@pytest.mark.parametrize(
    "order",
    [
        ("gemini/gemini-2.5-pro", "gemini-2.5-pro"),
        ("gemini-2.5-pro", "gemini/gemini-2.5-pro"),
    ],
    ids=["studio-first", "vertex-first"],
)
def test_google_ai_studio_price_beats_vertex(order):
    studio = {**GPT, "litellm_provider": "gemini", "input_cost_per_token": 1.25e-06}
    vertex = {
        **GPT,
        "litellm_provider": "vertex_ai-language-models",
        "input_cost_per_token": 1.3e-06,
    }
    both = {"gemini/gemini-2.5-pro": studio, "gemini-2.5-pro": vertex}

    entries, skipped = parse_litellm({key: both[key] for key in order})

    assert entries["google/gemini-2.5-pro"]["input"] == "1.25"
    assert skipped == 1


@pytest.mark.parametrize(
    "order",
    [
        ("deepseek/deepseek-chat", "deepseek-chat"),
        ("deepseek-chat", "deepseek/deepseek-chat"),
    ],
    ids=["prefixed-first", "bare-first"],
)
def test_prefixed_key_beats_bare_key_of_same_provider(order):
    prefixed = {**GPT, "litellm_provider": "deepseek", "input_cost_per_token": 2.8e-07}
    bare = {**GPT, "litellm_provider": "deepseek", "input_cost_per_token": 9e-07}
    both = {"deepseek/deepseek-chat": prefixed, "deepseek-chat": bare}

    entries, skipped = parse_litellm({key: both[key] for key in order})

    assert entries["deepseek/deepseek-chat"]["source"] == (
        "litellm: deepseek/deepseek-chat"
    )
    assert skipped == 1


@pytest.mark.parametrize(
    "fields",
    [
        {**GPT, "mode": "embedding"},
        {**GPT, "mode": "image_generation"},
        {**GPT, "mode": "completion"},
        {k: v for k, v in GPT.items() if k != "output_cost_per_token"},
        {k: v for k, v in GPT.items() if k != "input_cost_per_token"},
        {**GPT, "input_cost_per_token": None},
        {**GPT, "input_cost_per_token": -1e-06},
        {**GPT, "output_cost_per_token": math.nan},
        {**GPT, "output_cost_per_token": math.inf},
        {**GPT, "input_cost_per_token": "cheap"},
        {**GPT, "input_cost_per_token": True},
        {**GPT, "input_cost_per_token": [2.5e-06]},
        {**GPT, "cache_read_input_token_cost": -1e-07},
        {**GPT, "output_cost_per_reasoning_token": "NaN"},
        {**GPT, "input_cost_per_token_above_200k_tokens": -5e-06},
        {**GPT, "litellm_provider": None},
    ],
    ids=[
        "embedding",
        "image",
        "completion",
        "no-output",
        "no-input",
        "null-input",
        "negative",
        "nan",
        "infinite",
        "not-a-number",
        "bool",
        "list",
        "negative-cache-read",
        "nan-string-reasoning",
        "negative-tier",
        "no-provider",
    ],
)
def test_entry_skipped_and_counted(fields):
    entries, skipped = parse_litellm({"gpt-x": fields, "gpt-4o": GPT})

    assert list(entries) == ["openai/gpt-4o"]
    assert skipped == 1


def test_schema_and_note_keys_skipped_and_counted():
    data = {
        "sample_spec": {**GPT, "litellm_provider": "one of the providers"},
        "_about": "Per-token USD prices.",
        "gpt-4o": GPT,
    }

    entries, skipped = parse_litellm(data)

    assert list(entries) == ["openai/gpt-4o"]
    assert skipped == 2


@pytest.mark.parametrize(
    "mode", ["chat", "responses", None], ids=["chat", "responses", "no-mode"]
)
def test_chat_modes_kept(mode):
    fields = {k: v for k, v in GPT.items() if k != "mode"}
    if mode:
        fields["mode"] = mode

    entries, skipped = parse_litellm({"gpt-x": fields})

    assert list(entries) == ["openai/gpt-x"]
    assert skipped == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [(128000, 128000), (1048576.0, 1048576), (0, None), ("big", None), (1.5, None)],
    ids=["int", "integral-float", "zero", "string", "fraction"],
)
def test_max_input_tokens(value, expected):
    price = parse_one({**GPT, "max_input_tokens": value})

    assert price.get("maxInputTokens") == expected


def test_every_entry_loads_as_a_cs_price():
    fields = {
        **GPT,
        "cache_read_input_token_cost": 1.25e-06,
        "cache_creation_input_token_cost": 3.125e-06,
        "output_cost_per_reasoning_token": 1e-05,
        "input_cost_per_token_above_272k_tokens": 5e-06,
        "output_cost_per_token_above_272k_tokens": 1.5e-05,
        "cache_read_input_token_cost_above_272k_tokens": 5e-07,
    }

    entries, _ = parse_litellm({"gpt-x": fields})
    price = price_from_dict(entries["openai/gpt-x"], "gpt-x")

    assert price.tiers[0].above == 272000
    assert str(price.tiers[0].cache_read) == "0.5"
    assert str(price.cache_write) == "3.125"
