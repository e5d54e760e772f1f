"""The pricing table of the Insights page and its edits.

Edits go to the same `pricing.json` that `cs pricing set/remove` writes.
"""

from typing import Any

from cs_core import (
    InvalidInputError,
    load_price_book,
    price_to_dict,
    remove_user_price,
    set_user_price,
    user_price_key,
)

RATE_FIELDS = ("input", "output", "cacheRead", "cacheWrite")


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
    key = user_price_key(form.get("model", ""), form.get("provider"))
    rates = {field: form.get(field, "").strip() or None for field in RATE_FIELDS}
    for field in ("input", "output"):
        if rates[field] is None:
            raise InvalidInputError(f"the {field} price is required")
    set_user_price(key, rates)
    return key


def remove_price(key: str) -> bool:
    """Remove a user price; return whether it existed."""
    return remove_user_price(key)
