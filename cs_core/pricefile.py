"""Read LiteLLM's price file into cs's price shape.

LiteLLM keeps one JSON object of model id to fields, with every rate in USD per
single token. `parse_litellm` keeps the chat models, turns their token rates into
decimal strings of USD per million tokens and names each one `provider/model` in
cs's provider names. See `docs/pricing-sources.md` for how the bundled tables use it.
"""

import re
from collections.abc import Mapping
from typing import Any

from .errors import InvalidInputError
from .pricing import parse_rate

# LiteLLM's provider names where cs uses another one. Any other name is kept.
_PROVIDERS = {
    "gemini": "google",
    "vertex_ai-language-models": "google",
}

# Vertex lists Gemini at Google Cloud's prices; the `gemini` (AI Studio) entry
# is Google's list price, so it wins when both name the same model.
_CLOUD_RESELLERS = frozenset({"vertex_ai-language-models"})

_CHAT_MODES = frozenset({"chat", "responses"})

# LiteLLM token-rate fields and their cs keys. "above_1hr" is the 1-hour cache
# TTL, not a prompt-size tier.
_RATE_FIELDS = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "cache_read_input_token_cost": "cacheRead",
    "cache_creation_input_token_cost": "cacheWrite",
    "cache_creation_input_token_cost_above_1hr": "cacheWrite1h",
}
_REASONING_FIELD = "output_cost_per_reasoning_token"
# DeepSeek's older name for the cache-read rate.
_LEGACY_CACHE_READ = "input_cost_per_token_cache_hit"

# `<field>_above_<N>k_tokens`: the field's rate for a prompt over N thousand
# tokens. LiteLLM reads N as thousands with or without the `k`. Service-tier
# variants (`..._tokens_priority`) do not match.
_TIER_FIELD = re.compile(r"^(?P<field>\w+?)_above_(?P<thousands>\d+)k?_tokens$")


class _BadPriceError(ValueError):
    """A rate in the file is negative, NaN, infinite or not a number."""


def parse_litellm(
    data: Mapping[str, Any], *, label: str = "litellm"
) -> tuple[dict[str, dict[str, Any]], int]:
    """Turn LiteLLM's price file into cs price entries.

    Keeps entries of mode `chat` or `responses` (or no mode) that have both an
    input and an output token rate. When two keys name the same model, the Google
    AI Studio entry beats a Vertex one and a `provider/` key beats a bare one.

    Args:
        data: The parsed price file, model key to fields.
        label: Where the file came from; each entry's `source` is
            `"<label>: <key>"`.

    Returns:
        The entries keyed `provider/model` in the JSON shape of `price_from_dict`,
        and how many keys of `data` gave no entry (schema and note keys, other
        modes, missing or bad rates, and keys shadowed by a preferred entry).
    """
    entries: dict[str, dict[str, Any]] = {}
    ranks: dict[str, tuple[bool, bool]] = {}
    skipped = 0
    for key, fields in data.items():
        parsed = _parse_entry(key, fields, label)
        if parsed is None:
            skipped += 1
            continue
        name, price, rank = parsed
        if name in entries:
            skipped += 1
            if rank <= ranks[name]:
                continue
        entries[name] = price
        ranks[name] = rank
    return entries, skipped


def _parse_entry(
    key: str, fields: Any, label: str
) -> tuple[str, dict[str, Any], tuple[bool, bool]] | None:
    """Return the entry's cs name, price and preference rank, or None to skip."""
    if key == "sample_spec" or not isinstance(fields, Mapping):
        return None
    if fields.get("mode", "chat") not in _CHAT_MODES:
        return None
    litellm_provider = fields.get("litellm_provider") or _key_prefix(key)
    if not isinstance(litellm_provider, str) or not litellm_provider:
        return None
    try:
        price = _price(fields)
    except _BadPriceError:
        return None
    if price is None:
        return None

    price["source"] = f"{label}: {key}"
    provider = _PROVIDERS.get(litellm_provider, litellm_provider)
    model = key.split("/", 1)[1] if "/" in key else key
    rank = (litellm_provider not in _CLOUD_RESELLERS, "/" in key)
    return f"{provider}/{model}", price, rank


def _key_prefix(key: str) -> str | None:
    return key.split("/", 1)[0] if "/" in key else None


def _price(fields: Mapping[str, Any]) -> dict[str, Any] | None:
    """Build the cs price of one entry; None if it lacks input or output."""
    rates = _base_rates(fields)
    if "input" not in rates or "output" not in rates:
        return None

    price: dict[str, Any] = dict(rates)
    tiers = _tiers(fields, rates)
    if tiers:
        price["tiers"] = tiers
    max_input = _token_count(fields.get("max_input_tokens"))
    if max_input is not None:
        price["maxInputTokens"] = max_input
    return price


def _base_rates(fields: Mapping[str, Any]) -> dict[str, str]:
    """Return the entry's rates that apply below any tier, by cs key."""
    rates = {}
    for field, cs_key in _RATE_FIELDS.items():
        rate = _rate(fields.get(field))
        if rate is not None:
            rates[cs_key] = rate
    legacy = _rate(fields.get(_LEGACY_CACHE_READ))
    if legacy is not None:
        rates.setdefault("cacheRead", legacy)
    reasoning = _rate(fields.get(_REASONING_FIELD))
    if reasoning is not None:
        rates["reasoning"] = reasoning
    return rates


def _tiers(fields: Mapping[str, Any], base: Mapping[str, str]) -> list[dict[str, Any]]:
    """Collect the `_above_<N>k_tokens` fields into tiers, lowest first.

    A tier without its own input or output rate keeps the base one, as LiteLLM
    prices it.
    """
    by_size: dict[int, dict[str, str]] = {}
    for name, value in fields.items():
        match = _TIER_FIELD.match(name)
        if match is None or match["field"] not in _RATE_FIELDS:
            continue
        rate = _rate(value)
        if rate is not None:
            above = int(match["thousands"]) * 1000
            by_size.setdefault(above, {})[_RATE_FIELDS[match["field"]]] = rate
    return [_tier(above, rates, base) for above, rates in sorted(by_size.items())]


def _tier(
    above: int, rates: Mapping[str, str], base: Mapping[str, str]
) -> dict[str, Any]:
    """Return one tier in cs's shape, its rates in `_RATE_FIELDS` order."""
    tier: dict[str, Any] = {"above": above}
    for cs_key in _RATE_FIELDS.values():
        rate = rates.get(cs_key)
        if rate is None and cs_key in ("input", "output"):
            rate = base[cs_key]
        if rate is not None:
            tier[cs_key] = rate
    return tier


def _rate(value: Any) -> str | None:
    """Turn a per-token rate into a plain decimal string per million tokens.

    Raises:
        _BadPriceError: The value is negative, NaN, infinite or not a number.
    """
    if value is None:
        return None
    try:
        per_token = parse_rate(value, "rate")
    except InvalidInputError:
        raise _BadPriceError(value) from None
    return format(per_token.scaleb(6).normalize(), "f")


def _token_count(value: Any) -> int | None:
    """Return a positive whole token count, or None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value) if value > 0 else None
