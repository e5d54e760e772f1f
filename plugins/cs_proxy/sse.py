"""A server-sent events reader that works on a copy of the bytes as they pass.

It keeps only the event being received, never the stream, so a long response
costs no memory beyond its largest event.
"""

from collections.abc import Iterator
from dataclasses import dataclass

# An event larger than this is skipped rather than held: none that carries usage
# comes near it, and a broken stream must not grow the buffer without end.
MAX_EVENT_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Event:
    """One event: its `event:` name (None when unnamed) and its `data:` text."""

    name: str | None
    data: str


class EventReader:
    """Splits a byte stream into events, whatever the chunk boundaries."""

    def __init__(self) -> None:
        self._pending = b""
        self._skipping = False

    def feed(self, chunk: bytes) -> Iterator[Event]:
        """Take the next bytes of the stream and yield the events they complete."""
        data = self._pending + chunk
        # A final CR may be the first half of a CRLF: wait for the next byte.
        held = b"\r" if data.endswith(b"\r") else b""
        data = data[: len(data) - len(held)]
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        *complete, rest = data.split(b"\n\n")
        self._pending = rest + held
        for block in complete:
            if self._skipping:
                self._skipping = False
                continue
            event = _parse(block)
            if event is not None:
                yield event
        if len(self._pending) > MAX_EVENT_BYTES:
            self._pending = b""
            self._skipping = True

    def close(self) -> Iterator[Event]:
        """Yield an event left unterminated at the end of the stream."""
        block = self._pending.replace(b"\r", b"\n")
        self._pending = b""
        event = None if self._skipping else _parse(block)
        if event is not None:
            yield event


def _parse(block: bytes) -> Event | None:
    name: str | None = None
    data: list[str] = []
    for raw in block.decode("utf-8", "replace").split("\n"):
        field, _, value = raw.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)
    if not data:
        return None
    return Event(name, "\n".join(data))
