"""Send what `cs` records to an OpenTelemetry collector over OTLP/HTTP.

AI calls become GenAI token-usage and cost metrics plus a log event, sessions
become spans, alerts become log events. Each signal is its own event consumer,
so one signal failing never makes another one send twice. OpenTelemetry is
imported only when a batch is actually sent.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cs_core import Event, hookimpl

KINDS = ("ai_call", "session_start", "session_end", "alert")


@dataclass(frozen=True)
class OtelSink:
    """One OTLP signal as an event consumer."""

    name: str
    signal: str
    kinds: tuple[str, ...]

    def deliver(self, events: Sequence[Event], timeout_s: float) -> None:
        """Export a batch as this signal; raise if the collector refused it."""
        from .exporter import export  # the SDK costs ~150 ms: only when sending

        export(self.signal, events, timeout_s)


SINKS = (
    OtelSink("otel-metrics", "metrics", ("ai_call",)),
    OtelSink("otel-traces", "traces", ("session_end",)),
    OtelSink("otel-logs", "logs", KINDS),
)


@hookimpl
def register_event_sinks(register: Callable[[Any], None]) -> None:
    """Register one sink per OTLP signal."""
    for sink in SINKS:
        register(sink)


@hookimpl
def register_commands(register: Callable[..., None]) -> None:
    """Add `cs otel`."""
    register(
        "otel",
        "cs_otel.cli:app",
        help="Send calls, sessions and alerts to an OpenTelemetry collector.",
    )
