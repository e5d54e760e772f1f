"""Google Gemini prices and token semantics.

Gemini's `promptTokenCount` includes `cachedContentTokenCount`, but its thinking
tokens (`thoughtsTokenCount`) come beside `candidatesTokenCount` and are billed as
output on top of it.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from cs_core import hookimpl, table_source


@hookimpl
def register_price_sources(register: Callable[[Any], None]) -> None:
    """Register Google's price table (prices.json beside this module)."""
    register(
        table_source(
            "google",
            Path(__file__).with_name("prices.json"),
            reasoning_in_completion=False,
        )
    )
