"""OpenAI prices and token semantics.

OpenAI's `prompt_tokens` already include the cached ones (`cached_tokens`), and
`completion_tokens` include the reasoning tokens of o-series and GPT-5 models, so
neither is billed a second time.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from cs_core import hookimpl, table_source


@hookimpl
def register_price_sources(register: Callable[[Any], None]) -> None:
    """Register OpenAI's price table (prices.json beside this module)."""
    register(table_source("openai", Path(__file__).with_name("prices.json")))
