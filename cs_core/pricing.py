"""Prices and token semantics: from a call's token counts to its cost.

A provider plugin registers a `PriceSource`: its price table and the way it counts
tokens. The `PriceBook` puts every source and the user's `pricing.json` together and
resolves a model name to one canonical price without guessing.
"""

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache, partial
from pathlib import Path
from typing import Any, NamedTuple

from .errors import ConfigError, InvalidInputError
from .models import MILLION, Cost, ModelPrice, Tier, Usage

# Wrappers that cloud platforms put around a model id: a region (Bedrock), a
# vendor namespace, a version suffix, and Claude Code's context tag.
_REGION = re.compile(r"^(?:us|eu|apac|jp|au|global|us-gov)\.")
_VENDOR = re.compile(r"^(?:anthropic|openai|google|mistral|deepseek|meta|amazon)\.")
_VERSION_SUFFIX = re.compile(r"-v\d+(?::\d+)?$")
_CONTEXT_TAG = re.compile(r"\[[0-9a-z]+\]$")


@dataclass(frozen=True)
class PriceSource:
    """One provider's prices and token semantics.

    Args:
        provider: The provider name that `cs log-ai -p` takes.
        load_prices: Returns the table, model id to price; called lazily, once.
        cache_in_prompt: Cached tokens are counted inside prompt tokens (OpenAI,
            DeepSeek, Mistral, Google) rather than beside them (Anthropic).
        reasoning_in_completion: Reasoning tokens are counted inside completion
            tokens (OpenAI, Anthropic) rather than billed on top (Google).
    """

    provider: str
    load_prices: Callable[[], Mapping[str, ModelPrice]]
    cache_in_prompt: bool = True
    reasoning_in_completion: bool = True

    def validate(self, usage: Usage) -> None:
        """Reject counts that cannot all be true under this provider's semantics.

        Raises:
            InvalidInputError: More cached than prompt tokens, or more reasoning
                than completion tokens, where one includes the other.
        """
        cached = usage.cache_read_tokens + usage.cache_write_tokens
        cached += usage.cache_write_1h_tokens
        if (
            self.cache_in_prompt
            and usage.prompt_tokens is not None
            and cached > usage.prompt_tokens
        ):
            raise InvalidInputError(
                f"{cached} cache tokens exceed {usage.prompt_tokens} prompt "
                f"tokens, which include them for provider '{self.provider}'",
                hint="Pass the provider's own prompt token count.",
            )
        if (
            self.reasoning_in_completion
            and usage.completion_tokens is not None
            and usage.reasoning_tokens > usage.completion_tokens
        ):
            raise InvalidInputError(
                f"{usage.reasoning_tokens} reasoning tokens exceed "
                f"{usage.completion_tokens} completion tokens, which include "
                f"them for provider '{self.provider}'",
            )

    def prompt_size(self, usage: Usage) -> int:
        """Return every prompt token of the call, cached ones included."""
        prompt = usage.prompt_tokens or 0
        if self.cache_in_prompt:
            return prompt
        return (
            prompt
            + usage.cache_read_tokens
            + usage.cache_write_tokens
            + usage.cache_write_1h_tokens
        )

    def total_tokens(self, usage: Usage) -> int:
        """Return the call's token total: whole prompt plus all output."""
        output = usage.completion_tokens or 0
        if not self.reasoning_in_completion:
            output += usage.reasoning_tokens
        return self.prompt_size(usage) + output

    def billed_tokens(self, usage: Usage) -> dict[str, int]:
        """Split the call into the token counts billed at each rate."""
        cached = usage.cache_read_tokens + usage.cache_write_tokens
        cached += usage.cache_write_1h_tokens
        uncached = usage.prompt_tokens or 0
        if self.cache_in_prompt:
            uncached -= cached
        billed = {
            "input": uncached,
            "cache_read": usage.cache_read_tokens,
            "cache_write": usage.cache_write_tokens,
            "cache_write_1h": usage.cache_write_1h_tokens,
            "output": usage.completion_tokens or 0,
            "reasoning": 0,
        }
        if not self.reasoning_in_completion:
            billed["reasoning"] = usage.reasoning_tokens
        return billed

    def cost(self, usage: Usage, price: ModelPrice) -> Cost:
        """Price one call.

        The long-context tier is chosen once, from the whole prompt, and then
        applies to every token of the call.

        Args:
            usage: The call's token counts.
            price: The model's list prices.

        Returns:
            The exact cost with the rates and token counts it was computed from.
        """
        rates, tier = price.rates(self.prompt_size(usage))
        billed = self.billed_tokens(usage)
        total = (
            billed["input"] * rates.input
            + billed["cache_read"] * rates.cache_read
            + billed["cache_write"] * rates.cache_write
            + billed["cache_write_1h"] * rates.cache_write_1h
            + billed["output"] * rates.output
            + billed["reasoning"] * rates.reasoning
        )
        return Cost(
            cost_usd=total / MILLION,
            rates=rates,
            tier_above=tier.above if tier else None,
            billed=billed,
        )


# A provider that no plugin knows is priced like the OpenAI-compatible APIs that
# most gateways expose.
def generic_source(provider: str) -> PriceSource:
    """Return the semantics used for a provider that no plugin registers."""
    return PriceSource(provider=provider, load_prices=dict)


class Resolved(NamedTuple):
    """A model name resolved to a price: where it came from and under what id."""

    model: str
    price: ModelPrice
    source: str  # "built-in" or "custom"


def normalize_model(name: str, provider: str) -> str:
    """Strip the wrappers that clouds and clients put around a model id.

    Removes a provider prefix (`anthropic/x`), a cloud region and vendor namespace
    (`global.anthropic.x`), a version suffix (`-v1:0`), a context tag (`[1m]`),
    and letter case. Never touches the model's own name or date.
    """
    key = name.strip().lower()
    key = _CONTEXT_TAG.sub("", key)
    if "/" in key:
        key = key.rsplit("/", 1)[1]
    key = _REGION.sub("", key)
    key = _VENDOR.sub("", key)
    return _VERSION_SUFFIX.sub("", key)


class PriceBook:
    """All known prices: the providers' tables and the user's overrides.

    Args:
        sources: The registered price sources, by provider name.
        user_prices: The user's prices, keyed `model` or `provider/model`.
        refused: User price keys that were invalid, with the reason.
    """

    def __init__(
        self,
        sources: Mapping[str, PriceSource],
        user_prices: Mapping[str, ModelPrice],
        refused: Mapping[str, str] | None = None,
    ) -> None:
        self.sources = sources
        self.user_prices = user_prices
        self.refused = refused or {}
        self._tables: dict[str, dict[str, str]] = {}

    def source_for(self, provider: str) -> PriceSource:
        """Return the provider's semantics, or the generic ones."""
        return self.sources.get(provider) or generic_source(provider)

    def table(self, provider: str) -> Mapping[str, ModelPrice]:
        """Return the built-in table of one provider (empty if unknown)."""
        source = self.sources.get(provider)
        return source.load_prices() if source else {}

    def _index(self, provider: str) -> dict[str, str]:
        """Map every spelling the table lists (ids, aliases, lower case) to an id."""
        if provider not in self._tables:
            index: dict[str, str] = {}
            for model_id, price in self.table(provider).items():
                for name in (model_id, *price.aliases):
                    index.setdefault(name, model_id)
                    index.setdefault(name.lower(), model_id)
            self._tables[provider] = index
        return self._tables[provider]

    def resolve(self, provider: str, model: str) -> Resolved | None:
        """Find the price of `model`: exact name first, then without wrappers.

        User prices win over built-in ones. A name is never matched onto a
        different model by prefix or substring. A model whose user price was
        refused (negative, not a number) has no price: it is not silently
        costed at the built-in rate the user meant to replace.
        """
        if self.refusal(provider, model):
            return None
        for name in _dedupe((model, normalize_model(model, provider))):
            found = self._resolve_exact(provider, name)
            if found:
                return found
        return None

    def refusal(self, provider: str, model: str) -> str | None:
        """Return the refused user price key that would apply to `model`, if any."""
        if not self.refused:
            return None
        for name in _dedupe((model, normalize_model(model, provider))):
            model_id = self._index(provider).get(name, name)
            for key in _dedupe(
                (f"{provider}/{name}", name, f"{provider}/{model_id}", model_id)
            ):
                if key in self.refused:
                    return key
        return None

    def _resolve_exact(self, provider: str, name: str) -> Resolved | None:
        for key in (f"{provider}/{name}", name):
            if key in self.user_prices:
                return Resolved(name, self.user_prices[key], "custom")
        model_id = self._index(provider).get(name)
        if model_id is None:
            return None
        for key in (f"{provider}/{model_id}", model_id):
            if key in self.user_prices:
                return Resolved(model_id, self.user_prices[key], "custom")
        return Resolved(model_id, self.table(provider)[model_id], "built-in")


def _dedupe(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))


# No model costs anywhere near a million dollars per million tokens; a larger
# "price" is a typo, and would overflow the exact arithmetic of a huge call.
MAX_RATE = Decimal(1_000_000)


def parse_rate(value: Any, what: str) -> Decimal:
    """Parse a price in USD per million tokens: a number from 0 to a million.

    Raises:
        InvalidInputError: Not a plain number, negative, NaN, infinite or absurd.
    """
    text = str(value).strip()
    if isinstance(value, bool) or "_" in text:
        raise InvalidInputError(f"{what} must be a number, not {value!r}")
    try:
        rate = Decimal(text)
    except (InvalidOperation, ValueError):
        raise InvalidInputError(f"{what} must be a number, not {value!r}") from None
    if not rate.is_finite() or rate < 0 or rate > MAX_RATE:
        raise InvalidInputError(
            f"{what} must be a price from 0 to {MAX_RATE} USD per million tokens, "
            f"not {value!r}"
        )
    return rate


def _optional_rate(data: Mapping[str, Any], key: str, what: str) -> Decimal | None:
    value = data.get(key)
    return None if value is None else parse_rate(value, f"{what} {key}")


def price_from_dict(data: Mapping[str, Any], what: str) -> ModelPrice:
    """Build a `ModelPrice` from the JSON shape of `pricing.json` and price tables.

    Keys: `input`, `output` (required), `cacheRead`, `cacheWrite`, `cacheWrite1h`,
    `reasoning`, `tiers` (list of `{above, input, output, ...}`),
    `maxInputTokens`, `aliases`, `source`. Rates are USD per million tokens.

    Raises:
        InvalidInputError: A rate is missing, negative or not a number.
    """
    if not isinstance(data, Mapping):
        raise InvalidInputError(
            f"{what} must be an object with input and output prices"
        )
    tiers = tuple(
        Tier(
            above=int(tier["above"]),
            input=parse_rate(tier.get("input"), f"{what} tier input"),
            output=parse_rate(tier.get("output"), f"{what} tier output"),
            cache_read=_optional_rate(tier, "cacheRead", what),
            cache_write=_optional_rate(tier, "cacheWrite", what),
            cache_write_1h=_optional_rate(tier, "cacheWrite1h", what),
        )
        for tier in data.get("tiers") or ()
    )
    return ModelPrice(
        input=parse_rate(data.get("input"), f"{what} input"),
        output=parse_rate(data.get("output"), f"{what} output"),
        cache_read=_optional_rate(data, "cacheRead", what),
        cache_write=_optional_rate(data, "cacheWrite", what),
        cache_write_1h=_optional_rate(data, "cacheWrite1h", what),
        reasoning=_optional_rate(data, "reasoning", what),
        tiers=tiers,
        max_input_tokens=data.get("maxInputTokens"),
        aliases=tuple(data.get("aliases") or ()),
        source=data.get("source"),
    )


def price_to_dict(price: ModelPrice) -> dict[str, Any]:
    """Return the JSON shape of a price, rates as numbers per million tokens."""
    out: dict[str, Any] = {"input": price.input, "output": price.output}
    for key, value in (
        ("cacheRead", price.cache_read),
        ("cacheWrite", price.cache_write),
        ("cacheWrite1h", price.cache_write_1h),
        ("reasoning", price.reasoning),
    ):
        if value is not None:
            out[key] = value
    if price.tiers:
        out["tiers"] = [
            {
                "above": tier.above,
                "input": tier.input,
                "output": tier.output,
                **(
                    {"cacheRead": tier.cache_read}
                    if tier.cache_read is not None
                    else {}
                ),
                **(
                    {"cacheWrite": tier.cache_write}
                    if tier.cache_write is not None
                    else {}
                ),
                **(
                    {"cacheWrite1h": tier.cache_write_1h}
                    if tier.cache_write_1h is not None
                    else {}
                ),
            }
            for tier in price.tiers
        ]
    if price.max_input_tokens:
        out["maxInputTokens"] = price.max_input_tokens
    if price.aliases:
        out["aliases"] = list(price.aliases)
    if price.source:
        out["source"] = price.source
    return out


def table_source(
    provider: str,
    path: Path,
    *,
    cache_in_prompt: bool = True,
    reasoning_in_completion: bool = True,
) -> PriceSource:
    """Return a `PriceSource` whose prices are a bundled JSON table.

    The table is read on first use and once per process, however often the
    source is registered.

    Args:
        provider: The provider name.
        path: The table, `{"models": {id: price}}` as `load_table` reads it.
        cache_in_prompt: See `PriceSource`.
        reasoning_in_completion: See `PriceSource`.
    """
    return PriceSource(
        provider=provider,
        load_prices=partial(_bundled_table, Path(path)),
        cache_in_prompt=cache_in_prompt,
        reasoning_in_completion=reasoning_in_completion,
    )


@cache
def _bundled_table(path: Path) -> dict[str, ModelPrice]:
    return load_table(path)


def load_table(path: Path) -> dict[str, ModelPrice]:
    """Load a bundled price table (`{"models": {id: price}}`) from a JSON file."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        model: price_from_dict(entry, f"price of {model!r} in {path.name}")
        for model, entry in data["models"].items()
    }


def user_pricing_path(home: str | os.PathLike[str]) -> Path:
    """Return the path of the user's `pricing.json` in the data folder."""
    return Path(home) / "pricing.json"


def read_user_prices(path: Path) -> tuple[dict[str, ModelPrice], dict[str, str]]:
    """Read the user's `pricing.json`; a missing file is an empty table.

    An entry with a bad price (negative, not a number) is refused on its own:
    its model stays unpriced and the refusal is returned, to warn about.

    Returns:
        The valid prices by key, and the refused keys with the reason.

    Raises:
        ConfigError: The file cannot be read or is not a JSON object.
    """
    prices: dict[str, ModelPrice] = {}
    refused: dict[str, str] = {}
    for key, entry in read_user_price_data(path).items():
        try:
            prices[key] = price_from_dict(entry, f"price '{key}' in {path}")
        except (InvalidInputError, KeyError, TypeError, ValueError) as exc:
            refused[key] = getattr(exc, "message", str(exc))
    return prices, refused


def read_user_price_data(path: Path) -> dict[str, Any]:
    """Read `pricing.json` as JSON, unvalidated; a missing file is empty.

    Raises:
        ConfigError: The file cannot be read or is not a JSON object.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(
            f"{path} is not valid JSON: {exc}",
            hint="Fix the file, or run cs pricing reset to remove every user price.",
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object of prices")
    return data


def save_user_price_data(path: Path, data: Mapping[str, Any]) -> None:
    """Write `pricing.json` atomically, readable by its owner only.

    Raises:
        ConfigError: The data folder is not writable.
    """
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            json.dump(dict(sorted(data.items())), stream, indent=2, default=str)
            stream.write("\n")
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None


def user_price_key(model: str, provider: str | None = None) -> str:
    """Return the `pricing.json` key of a user price: `PROVIDER/MODEL` or `MODEL`.

    Raises:
        InvalidInputError: The model name is empty or over 200 characters.
    """
    model = model.strip()
    if not model or len(model) > 200:
        raise InvalidInputError("model must be 1 to 200 characters")
    provider = (provider or "").strip().lower()
    return f"{provider}/{model}" if provider else model


def set_user_price(key: str, rates: Mapping[str, Any]) -> dict[str, str]:
    """Store a user price in `pricing.json`, replacing any under the same key.

    Args:
        key: From `user_price_key`.
        rates: JSON field (`input`, `output`, `cacheRead`, ...) to its rate in
            USD per million tokens; None leaves that field out.

    Returns:
        The stored entry, rates as exact decimal strings.

    Raises:
        InvalidInputError: A rate is not a plain number from 0 to a million.
        ConfigError: The file cannot be read or written.
    """
    entry = {
        field: str(parse_rate(value, f"{field} price"))
        for field, value in rates.items()
        if value is not None
    }
    path = _user_path()
    data = read_user_price_data(path)
    data[key] = entry
    save_user_price_data(path, data)
    return entry


def remove_user_price(key: str) -> bool:
    """Remove a user price from `pricing.json`; return whether there was one."""
    path = _user_path()
    data = read_user_price_data(path)
    if key not in data:
        return False
    del data[key]
    save_user_price_data(path, data)
    return True


def _user_path() -> Path:
    from .db import data_home

    return user_pricing_path(data_home())


def load_price_book() -> PriceBook:
    """Return the price book of the registered plugins and the user's prices."""
    from .plugins import price_sources

    prices, refused = read_user_prices(_user_path())
    return PriceBook(price_sources(), prices, refused)
