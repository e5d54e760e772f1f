"""DeepSeek prices and token semantics.

DeepSeek's `prompt_tokens` are the sum of `prompt_cache_hit_tokens` and
`prompt_cache_miss_tokens`, so cache hits are part of the prompt; the reasoner's
chain of thought is part of `completion_tokens`.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from cs_core import hookimpl, table_source


@hookimpl
def register_price_sources(register: Callable[[Any], None]) -> None:
    """Register DeepSeek's price table (prices.json beside this module)."""
    register(table_source("deepseek", Path(__file__).with_name("prices.json")))
