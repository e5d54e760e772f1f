"""What each provider API reports about a call, read from its responses.

A meter reads one response: a JSON body, or a stream of server-sent events. It
keeps only the response id, the model and the token counts; prompt and output
text are never kept.

The token counts keep the provider's own meaning (the price sources know it):
Anthropic reports cache reads and writes beside `input_tokens`; OpenAI-style
APIs count cached tokens inside the prompt and reasoning inside the output.
"""

import json
from dataclasses import dataclass
from typing import Any, Protocol

from .sse import Event


@dataclass
class Reading:
    """A response's id, model and token counts, as far as they were read."""

    response_id: str | None = None
    model: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    cache_write_1h_tokens: int | None = None
    reasoning_tokens: int | None = None
    complete: bool = False


class Meter(Protocol):
    """Reads one response of one API."""

    reading: Reading

    def read_body(self, body: dict[str, Any]) -> None:
        """Read a whole JSON response."""

    def read_event(self, event: Event) -> None:
        """Read one event of a streamed response."""


def _count(value: Any) -> int | None:
    """Return a token count the provider sent, or None when it is not one."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _load(data: str) -> dict[str, Any]:
    try:
        return _object(json.loads(data))
    except ValueError:
        return {}


def _identify(reading: Reading, message: dict[str, Any]) -> None:
    if isinstance(message.get("id"), str):
        reading.response_id = message["id"]
    if isinstance(message.get("model"), str):
        reading.model = message["model"]


class AnthropicMessages:
    """The Messages API (`POST /v1/messages`)."""

    def __init__(self) -> None:
        self.reading = Reading()

    def read_body(self, body: dict[str, Any]) -> None:
        """Read a whole message: its id, model and `usage`."""
        _identify(self.reading, body)
        self._read_usage(_object(body.get("usage")), final=True)

    def read_event(self, event: Event) -> None:
        """Read `message_start` (input side) and `message_delta` (output)."""
        if event.name == "message_start":
            message = _object(_load(event.data).get("message"))
            _identify(self.reading, message)
            self._read_usage(_object(message.get("usage")), final=False)
        elif event.name == "message_delta":
            self._read_usage(_object(_load(event.data).get("usage")), final=True)

    def _read_usage(self, usage: dict[str, Any], *, final: bool) -> None:
        reading = self.reading
        # message_delta repeats the input counts in newer API versions; a value
        # given later wins, a missing one keeps what message_start said.
        for field, key in (
            ("prompt_tokens", "input_tokens"),
            ("completion_tokens", "output_tokens"),
            ("cache_read_tokens", "cache_read_input_tokens"),
        ):
            value = _count(usage.get(key))
            if value is not None:
                setattr(reading, field, value)
        self._read_cache_writes(usage)
        if final and reading.completion_tokens is not None:
            reading.complete = reading.prompt_tokens is not None

    def _read_cache_writes(self, usage: dict[str, Any]) -> None:
        split = _object(usage.get("cache_creation"))
        five = _count(split.get("ephemeral_5m_input_tokens"))
        hour = _count(split.get("ephemeral_1h_input_tokens"))
        total = _count(usage.get("cache_creation_input_tokens"))
        if five is None and hour is None:
            # A bare total never overrides a split read earlier in the stream.
            if total is not None and self.reading.cache_write_1h_tokens is None:
                self.reading.cache_write_tokens = total
            return
        self.reading.cache_write_tokens = five or 0
        self.reading.cache_write_1h_tokens = hour or 0


class ChatCompletions:
    """OpenAI-compatible Chat Completions (`POST /v1/chat/completions`).

    A stream reports usage only when the request asked for it with
    `stream_options: {"include_usage": true}`; the proxy never changes the
    request, so a stream without it is logged with an unknown cost.
    """

    def __init__(self) -> None:
        self.reading = Reading()

    def read_body(self, body: dict[str, Any]) -> None:
        """Read a completion: its id, model and `usage`."""
        _identify(self.reading, body)
        self._read_usage(body.get("usage"))

    def read_event(self, event: Event) -> None:
        """Read a chunk: the first names the call, the last carries usage."""
        if event.data.strip() == "[DONE]":
            return
        if self.reading.response_id is not None and '"usage"' not in event.data:
            return  # a content delta: nothing to read, skip parsing it
        chunk = _load(event.data)
        if self.reading.response_id is None:
            _identify(self.reading, chunk)
        self._read_usage(chunk.get("usage"))

    def _read_usage(self, value: Any) -> None:
        usage = _object(value)
        if not usage:
            return
        reading = self.reading
        reading.prompt_tokens = _count(usage.get("prompt_tokens"))
        reading.completion_tokens = _count(usage.get("completion_tokens"))
        prompt = _object(usage.get("prompt_tokens_details"))
        completion = _object(usage.get("completion_tokens_details"))
        cached = _count(prompt.get("cached_tokens"))
        # DeepSeek has reported cache hits under its own key as well.
        if cached is None:
            cached = _count(usage.get("prompt_cache_hit_tokens"))
        reading.cache_read_tokens = cached
        reading.reasoning_tokens = _count(completion.get("reasoning_tokens"))
        reading.complete = (
            reading.prompt_tokens is not None and reading.completion_tokens is not None
        )


class Responses:
    """OpenAI's Responses API (`POST /v1/responses`)."""

    FINAL_EVENTS = ("response.completed", "response.incomplete", "response.failed")

    def __init__(self) -> None:
        self.reading = Reading()

    def read_body(self, body: dict[str, Any]) -> None:
        """Read a response object: its id, model and `usage`."""
        _identify(self.reading, body)
        self._read_usage(body.get("usage"))

    def read_event(self, event: Event) -> None:
        """Read `response.created` (names the call) and the final event."""
        kind = event.name
        if kind not in ("response.created", *self.FINAL_EVENTS):
            return
        response = _object(_load(event.data).get("response"))
        _identify(self.reading, response)
        if kind in self.FINAL_EVENTS:
            self._read_usage(response.get("usage"))

    def _read_usage(self, value: Any) -> None:
        usage = _object(value)
        if not usage:
            return
        reading = self.reading
        reading.prompt_tokens = _count(usage.get("input_tokens"))
        reading.completion_tokens = _count(usage.get("output_tokens"))
        details_in = _object(usage.get("input_tokens_details"))
        details_out = _object(usage.get("output_tokens_details"))
        reading.cache_read_tokens = _count(details_in.get("cached_tokens"))
        reading.reasoning_tokens = _count(details_out.get("reasoning_tokens"))
        reading.complete = (
            reading.prompt_tokens is not None and reading.completion_tokens is not None
        )


@dataclass(frozen=True)
class Route:
    """A metered endpoint: which upstream serves it and how to read it."""

    upstream: str
    meter: type[AnthropicMessages] | type[ChatCompletions] | type[Responses]
    provider: str | None = None


# Paths are matched with and without the /v1 prefix: some SDKs (DeepSeek's
# documented set-up, for one) put the version in the base URL, others do not.
ROUTES: dict[str, Route] = {
    "/v1/messages": Route("anthropic", AnthropicMessages, provider="anthropic"),
    "/v1/chat/completions": Route("openai", ChatCompletions),
    "/v1/responses": Route("openai", Responses),
}


def route_for(path: str) -> Route | None:
    """Return the metered route of a request path, if it is one."""
    path = path.rstrip("/")
    return ROUTES.get(path) or ROUTES.get(f"/v1{path}")


def upstream_for(path: str, headers: dict[str, str]) -> str:
    """Pick the upstream of any request: metered routes know theirs.

    Other paths (model lists, token counting) go where their headers point:
    Anthropic's clients send `x-api-key` or `anthropic-version`.
    """
    route = route_for(path)
    if route is not None:
        return route.upstream
    if path.startswith("/v1/messages") or "anthropic-version" in headers:
        return "anthropic"
    return "anthropic" if "x-api-key" in headers else "openai"
