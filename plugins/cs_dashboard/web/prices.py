"""The pricing table of the Insights page and its edits.

Edits go to the same `pricing.json` that `cs pricing set/remove` writes.
"""

from pathlib import Path
from typing import Any

from cs_core import (
    InvalidInputError,
    data_home,
    load_price_book,
    parse_rate,
    price_to_dict,
    read_user_price_data,
    save_user_price_data,
    user_pricing_path,
)

RATE_FIELDS = ("input", "output", "cacheRead", "cacheWrite")


def _path() -> Path:
    return user_pricing_path(data_home())


def price_rows() -> list[dict[str, Any]]:
    """Return every known price: the user's first, then the built-in tables."""
    book = load_price_book()
    rows = []
    for key, price in sorted(book.user_prices.items()):
        provider = key.split("/", 1)[0] if "/" in key else "any"
        rows.append(
            {
                "key": key,
                "provider": provider,
                "source": "custom",
                **price_to_dict(price),
            }
        )
    for provider in sorted(book.sources):
        for model, price in sorted(book.table(provider).items()):
            rows.append(
                {
                    "key": model,
                    "provider": provider,
                    "source": "built-in",
                    **price_to_dict(price),
                }
            )
    return rows


def refused_prices() -> dict[str, str]:
    """Return the user prices that were refused, with the reason."""
    return dict(load_price_book().refused)


def set_price(form: dict[str, str]) -> str:
    """Store a user price from the form; return its key.

    Raises:
        InvalidInputError: A missing model or a bad rate.
    """
    model = form.get("model", "").strip()
    if not model or len(model) > 200:
        raise InvalidInputError("model must be 1 to 200 characters")
    provider = form.get("provider", "").strip().lower()
    key = f"{provider}/{model}" if provider else model
    entry = {}
    for field in RATE_FIELDS:
        value = form.get(field, "").strip()
        if value:
            entry[field] = str(parse_rate(value, f"{field} price"))
        elif field in ("input", "output"):
            raise InvalidInputError(f"the {field} price is required")
    data = read_user_price_data(_path())
    data[key] = entry
    save_user_price_data(_path(), data)
    return key


def remove_price(key: str) -> bool:
    """Remove a user price; return whether it existed."""
    data = read_user_price_data(_path())
    if key not in data:
        return False
    del data[key]
    save_user_price_data(_path(), data)
    return True
