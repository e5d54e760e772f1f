"""The bundled price tables and each provider's token semantics."""

from decimal import Decimal

import pytest

import cs_anthropic
import cs_deepseek
import cs_google
import cs_mistral
import cs_openai
from cs_core import PriceSource, Usage
from cs_core.pricing import PriceBook

PLUGINS = (cs_anthropic, cs_openai, cs_google, cs_mistral, cs_deepseek)

CONTRACT_KEYS = [
    ("anthropic", "claude-opus-4-6"),
    ("anthropic", "claude-sonnet-4-5"),
    ("anthropic", "claude-sonnet-4"),
    ("anthropic", "claude-haiku-3.5"),
    ("openai", "gpt-4o"),
    ("openai", "gpt-4o-mini"),
    ("openai", "gpt-4.1"),
    ("openai", "gpt-4.1-mini"),
    ("openai", "gpt-4.1-nano"),
    ("openai", "gpt-5"),
    ("openai", "gpt-5-mini"),
    ("openai", "gpt-5-codex"),
    ("openai", "gpt-5.1-codex"),
    ("openai", "gpt-5.1-codex-max"),
    ("openai", "gpt-5.1-codex-mini"),
    ("openai", "gpt-5.2-codex"),
    ("openai", "gpt-5.3-codex"),
    ("openai", "codex-mini-latest"),
    ("openai", "o3"),
    ("openai", "o4-mini"),
    ("google", "gemini-2.5-pro"),
    ("google", "gemini-2.5-flash"),
    ("google", "gemini-2.0-flash"),
    ("deepseek", "deepseek-r1"),
    ("deepseek", "deepseek-v3"),
]


def registered_sources() -> dict[str, PriceSource]:
    found: list[PriceSource] = []
    for plugin in PLUGINS:
        plugin.register_price_sources(register=found.append)
    return {source.provider: source for source in found}


SOURCES = registered_sources()


def all_aliases():
    return [
        (provider, model, alias)
        for provider, source in SOURCES.items()
        for model, price in source.load_prices().items()
        for alias in price.aliases
    ]


def all_models():
    return [
        (provider, model)
        for provider, source in SOURCES.items()
        for model in source.load_prices()
    ]


@pytest.fixture
def book():
    return PriceBook(SOURCES, {})


def price_call(book, provider, model, **tokens):
    resolved = book.resolve(provider, model)
    assert resolved is not None, f"{provider}/{model} did not resolve"
    usage = Usage(provider=provider, model=model, **tokens)
    source = book.source_for(provider)
    return resolved, source.cost(usage, resolved.price), source.total_tokens(usage)


@pytest.mark.parametrize(
    ("provider", "cache_in_prompt", "reasoning_in_completion"),
    [
        ("anthropic", False, True),
        ("openai", True, True),
        ("google", True, False),
        ("mistral", True, True),
        ("deepseek", True, True),
    ],
    ids=["anthropic", "openai", "google", "mistral", "deepseek"],
)
def test_provider_token_semantics(provider, cache_in_prompt, reasoning_in_completion):
    source = SOURCES[provider]

    assert source.cache_in_prompt is cache_in_prompt
    assert source.reasoning_in_completion is reasoning_in_completion


@pytest.mark.parametrize(
    ("provider", "model"), CONTRACT_KEYS, ids=[m for _, m in CONTRACT_KEYS]
)
def test_contract_key_is_a_model_id(provider, model):
    assert model in SOURCES[provider].load_prices()


@pytest.mark.parametrize(
    ("provider", "model", "rates"),
    [
        ("anthropic", "claude-sonnet-4", {"input": "3", "output": "15"}),
        (
            "anthropic",
            "claude-haiku-3.5",
            {
                "input": "0.8",
                "output": "4",
                "cache_read": "0.08",
                "cache_write": "1",
                "cache_write_1h": "1.6",
            },
        ),
        ("anthropic", "claude-haiku-4-5", {"input": "1", "output": "5"}),
        ("openai", "gpt-4o", {"input": "2.5", "output": "10", "cache_read": "1.25"}),
        ("openai", "gpt-4o-mini", {"input": "0.15", "output": "0.6"}),
        ("openai", "gpt-4o-2024-05-13", {"input": "5", "output": "15"}),
        ("openai", "o3", {"input": "2", "output": "8"}),
        ("google", "gemini-2.5-pro", {"input": "1.25", "output": "10"}),
        ("deepseek", "deepseek-r1", {"input": "0.55", "output": "2.19"}),
        ("deepseek", "deepseek-v3", {"input": "0.27", "output": "1.1"}),
    ],
    ids=[
        "claude-sonnet-4",
        "claude-haiku-3.5",
        "claude-haiku-4-5",
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4o-2024-05-13",
        "o3",
        "gemini-2.5-pro",
        "deepseek-r1",
        "deepseek-v3",
    ],
)
def test_worked_price(provider, model, rates):
    price = SOURCES[provider].load_prices()[model]

    for name, rate in rates.items():
        assert getattr(price, name) == Decimal(rate), name


@pytest.mark.parametrize(
    ("provider", "model", "above", "rates"),
    [
        (
            "anthropic",
            "claude-sonnet-4-5",
            200000,
            {"input": "6", "output": "22.5", "cache_read": "0.6"},
        ),
        ("google", "gemini-2.5-pro", 200000, {"input": "2.5", "output": "15"}),
    ],
    ids=["claude-sonnet-4-5", "gemini-2.5-pro"],
)
def test_long_context_tier(provider, model, above, rates):
    (tier,) = SOURCES[provider].load_prices()[model].tiers

    assert tier.above == above
    for name, rate in rates.items():
        assert getattr(tier, name) == Decimal(rate), name


@pytest.mark.parametrize(
    ("provider", "model", "alias"),
    [
        ("anthropic", "claude-haiku-4-5", "claude-haiku-4-5-20251001"),
        ("anthropic", "claude-sonnet-4", "claude-sonnet-4-20250514"),
        ("anthropic", "claude-haiku-3.5", "claude-3-5-haiku-20241022"),
        ("openai", "gpt-4o", "gpt-4o-2024-08-06"),
    ],
    ids=["haiku-4-5", "sonnet-4", "haiku-3-5", "gpt-4o"],
)
def test_dated_id_is_alias(provider, model, alias):
    table = SOURCES[provider].load_prices()

    assert alias in table[model].aliases
    assert alias not in table


def test_dated_snapshot_priced_differently_stays_a_model():
    table = SOURCES["openai"].load_prices()

    assert "gpt-4o-2024-05-13" in table
    assert "gpt-4o-2024-05-13" not in table["gpt-4o"].aliases


@pytest.mark.parametrize(
    ("provider", "model", "alias"),
    all_aliases(),
    ids=[f"{p}/{a}" for p, _, a in all_aliases()],
)
def test_every_alias_resolves_to_its_model(book, provider, model, alias):
    resolved = book.resolve(provider, alias)

    assert resolved is not None
    assert resolved.model == model


@pytest.mark.parametrize(
    ("provider", "model"), all_models(), ids=[f"{p}/{m}" for p, m in all_models()]
)
def test_every_model_says_where_its_price_came_from(provider, model):
    assert SOURCES[provider].load_prices()[model].source


def test_b02_openai_cached_tokens_are_part_of_the_prompt(book):
    _, cost, total = price_call(
        book,
        "openai",
        "gpt-4o",
        prompt_tokens=20212,
        cache_read_tokens=16298,
        completion_tokens=931,
    )

    assert cost.cost_usd == Decimal("0.0394675")
    assert total == 21143


def test_b03_openai_reasoning_is_part_of_the_completion(book):
    _, cost, total = price_call(
        book,
        "openai",
        "o3",
        prompt_tokens=14746,
        completion_tokens=1944,
        reasoning_tokens=1360,
    )

    assert cost.cost_usd == Decimal("0.045044")
    assert total == 16690


def test_b04_google_thinking_is_billed_on_top_of_output(book):
    _, cost, total = price_call(
        book,
        "google",
        "gemini-2.5-pro",
        prompt_tokens=55021,
        completion_tokens=923,
        reasoning_tokens=785,
    )

    assert cost.cost_usd == Decimal("0.08585625")
    assert total == 56729


@pytest.mark.parametrize(
    "spelling",
    [
        "claude-haiku-4-5",
        "claude-haiku-4-5-20251001",
        "anthropic/claude-haiku-4-5",
        "global.anthropic.claude-haiku-4-5-20251001-v1:0",
        "CLAUDE-HAIKU-4-5",
    ],
    ids=["bare", "dated", "prefixed", "bedrock-global", "upper-case"],
)
def test_b06_haiku_spellings_resolve_to_one_model(book, spelling):
    resolved, cost, _ = price_call(
        book,
        "anthropic",
        spelling,
        prompt_tokens=100000,
        completion_tokens=10000,
    )

    assert resolved.model == "claude-haiku-4-5"
    assert cost.cost_usd == Decimal("0.15")


@pytest.mark.parametrize(
    ("model", "canonical", "cost_usd"),
    [
        ("gpt-4o-2024-08-06", "gpt-4o", "0.35"),
        ("gpt-4o-mini", "gpt-4o-mini", "0.021"),
        ("gpt-4o-2024-05-13", "gpt-4o-2024-05-13", "0.65"),
    ],
    ids=["dated-alias", "mini-not-prefix-matched", "old-snapshot-own-price"],
)
def test_b06_openai_snapshot_prices(book, model, canonical, cost_usd):
    resolved, cost, _ = price_call(
        book, "openai", model, prompt_tokens=100000, completion_tokens=10000
    )

    assert resolved.model == canonical
    assert cost.cost_usd == Decimal(cost_usd)


@pytest.mark.parametrize(
    "model", ["gpt-4o-2099-01-01", "openrouter/auto"], ids=["future-date", "router"]
)
def test_b06_unknown_name_is_not_guessed(book, model):
    assert book.resolve("openai", model) is None


@pytest.mark.parametrize(
    ("provider", "model", "prompt", "completion", "cost_usd"),
    [
        ("anthropic", "claude-sonnet-4", 10000, 5000, "0.105"),
        ("openai", "gpt-4o-mini", 1234, 567, "0.0005253"),
        ("openai", "gpt-4o", 5000, 1500, "0.0275"),
    ],
    ids=["claude-sonnet-4", "gpt-4o-mini", "gpt-4o"],
)
def test_contract_worked_example(book, provider, model, prompt, completion, cost_usd):
    _, cost, _ = price_call(
        book, provider, model, prompt_tokens=prompt, completion_tokens=completion
    )

    assert cost.cost_usd == Decimal(cost_usd)


@pytest.mark.parametrize(
    ("prompt", "tier_above", "cost_usd"),
    [
        # 150000 + 60000 cached = 210000 > 200000: every token at the tier rates.
        (150000, 200000, Decimal("0.9585")),
        # 140000 + 60000 = exactly 200000: still the base rates.
        (140000, None, Decimal("0.453")),
    ],
    ids=["over-200k", "exactly-200k"],
)
def test_anthropic_long_context_tier_counts_cache_reads(
    book, prompt, tier_above, cost_usd
):
    _, cost, total = price_call(
        book,
        "anthropic",
        "claude-sonnet-4-5",
        prompt_tokens=prompt,
        cache_read_tokens=60000,
        completion_tokens=1000,
    )

    assert cost.tier_above == tier_above
    assert cost.cost_usd == cost_usd
    assert total == prompt + 60000 + 1000


def test_hook_register_price_sources() -> None:
    import cs_anthropic
    import cs_deepseek
    import cs_google
    import cs_mistral
    import cs_openai

    registered = []
    for plugin in (cs_anthropic, cs_openai, cs_google, cs_mistral, cs_deepseek):
        plugin.register_price_sources(register=registered.append)

    assert [source.provider for source in registered] == [
        "anthropic", "openai", "google", "mistral", "deepseek",
    ]  # fmt: skip
    assert [source.cache_in_prompt for source in registered] == [
        False, True, True, True, True,
    ]  # fmt: skip
