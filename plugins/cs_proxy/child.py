"""Running the wrapped command of `cs run`: start it, relay signals, wait."""

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from cs_core import InvalidInputError


def check_command(command: Sequence[str]) -> None:
    """Refuse an empty command or one that cannot be found, before any session.

    Raises:
        InvalidInputError: Nothing to run, or no such program.
    """
    if not command:
        raise InvalidInputError(
            "no command to run", hint="Put the command after --: cs run -- claude"
        )
    if shutil.which(command[0]) is None:
        raise InvalidInputError(f"command not found: '{command[0]}'")


def run_child(command: Sequence[str], env: dict[str, str]) -> int:
    """Run a command to its end, relaying SIGINT and SIGTERM to it.

    Returns:
        Its exit code; 128 + N when signal N ended it, as shells report it.
    """
    child = subprocess.Popen(list(command), env=env)
    previous = _relay_signals(child)
    try:
        code = child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 - code if code < 0 else code


def _relay_signals(child: subprocess.Popen[bytes]) -> dict[int, Any]:
    def relay(signum: int, frame: Any) -> None:
        if signum == signal.SIGINT and _terminal_sends_it():
            return
        child.send_signal(signum)

    return {sig: signal.signal(sig, relay) for sig in (signal.SIGINT, signal.SIGTERM)}


def _terminal_sends_it() -> bool:
    """True when Ctrl+C at a terminal already reaches the child itself.

    The terminal signals its whole foreground process group, the child
    included; relaying as well would deliver a second Ctrl+C, which many
    agents read as "quit now".
    """
    try:
        return os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except (OSError, ValueError):
        return False
