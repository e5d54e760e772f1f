"""The command sink: run a user's command with the alert JSON on stdin."""

import json
import os
from collections.abc import Mapping
from typing import Any

from cs_core import InvalidInputError

DEFAULT_TIMEOUT_SECONDS = 10.0


class CommandSink:
    """Runs a shell command per alert, killed if it outlives its timeout."""

    kind = "command"

    def validate(self, target: str) -> None:
        """Accept any non-empty command line.

        Raises:
            InvalidInputError: The command is empty.
        """
        if not target.strip():
            raise InvalidInputError("the alert command must not be empty")

    def send(self, alert: Mapping[str, Any], config: Mapping[str, Any]) -> None:
        """Run the command through the shell, the alert as JSON on stdin.

        Args:
            alert: The alert document.
            config: `target` (the command line) and `timeout` (seconds).

        Raises:
            RuntimeError: The command failed or ran out of time.
        """
        # subprocess costs ~6 ms to import; every cs command loads this plugin.
        import signal
        import subprocess

        timeout = float(config.get("timeout", DEFAULT_TIMEOUT_SECONDS))
        # Its own process group, so a timeout also kills what the shell started.
        process = subprocess.Popen(
            config["target"],
            shell=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

        try:
            process.communicate(
                json.dumps(dict(alert)).encode("utf-8"), timeout=timeout
            )
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise RuntimeError(f"command timed out after {timeout:g} s") from None

        if process.returncode != 0:
            raise RuntimeError(f"command exited with status {process.returncode}")
