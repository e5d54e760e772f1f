"""Bundled alert sinks: the terminal, a webhook and a user command.

`terminal` needs no configuration; `webhook` and `command` are added with
`cs alerts add`. Each bounds its own run time, so a sink that hangs or a host
that is down delays a command by at most its timeout.
"""

from collections.abc import Callable
from typing import Any

from cs_core import hookimpl

from .command import CommandSink
from .terminal import TerminalSink
from .webhook import WebhookSink


@hookimpl
def register_alert_sinks(register: Callable[[Any], None]) -> None:
    """Register the terminal, webhook and command sinks."""
    register(TerminalSink())
    register(WebhookSink())
    register(CommandSink())
