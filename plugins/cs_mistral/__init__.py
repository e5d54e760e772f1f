"""Mistral prices and token semantics.

Mistral's API follows OpenAI's usage shape: any cached tokens are part of
`prompt_tokens`, and the thinking of Magistral models is part of
`completion_tokens`.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from cs_core import hookimpl, table_source


@hookimpl
def register_price_sources(register: Callable[[Any], None]) -> None:
    """Register Mistral's price table (prices.json beside this module)."""
    register(table_source("mistral", Path(__file__).with_name("prices.json")))
