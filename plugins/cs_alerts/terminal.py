"""The terminal sink: one line on stderr per alert."""

import sys
from collections.abc import Mapping
from typing import Any


class TerminalSink:
    """Prints each alert on stderr, where it never mixes with a JSON result."""

    kind = "terminal"

    def send(self, alert: Mapping[str, Any], config: Mapping[str, Any]) -> None:
        """Write the alert's message on stderr.

        Args:
            alert: The alert document.
            config: Unused; the terminal needs no settings.
        """
        sys.stderr.write(f"Warning: {alert['message']}\n")
        sys.stderr.flush()
