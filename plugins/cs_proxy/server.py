"""The metering proxy: forward each call upstream, pass the answer back unchanged,
and log what the provider says the call used.

The proxy is an ASGI app served by uvicorn on 127.0.0.1. Responses are relayed
chunk by chunk as they arrive; a copy of each chunk goes to the API's meter,
which keeps only ids, model names and counts. Keys and prompt text are never
read into anything that is stored or printed.
"""

import json
import logging
import os
import socket
import sqlite3
import threading
import time
import zlib
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import anyio
import httpx
import uvicorn

from cs_core import CallInput, CsError, PortInUseError, record_call, write_stderr

from .apis import Meter, Reading, Route, route_for, upstream_for
from .sse import EventReader

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

HOST = "127.0.0.1"
AGENT_ENV = "CODESESSION_AGENT_NAME"
# Headers that describe one hop, not the message (RFC 9110, section 7.6.1).
HOP_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# A JSON answer is copied for its usage up to this size; beyond, it is unread.
MAX_BODY_COPY = 32 * 1024 * 1024
# Model calls may think for minutes before the first byte.
TIMEOUT = httpx.Timeout(60.0, read=900.0)


@dataclass(frozen=True)
class ProxyConfig:
    """Where the proxy forwards to and where it logs.

    Args:
        anthropic_upstream: Base URL of the Anthropic API.
        openai_upstream: Base URL of the OpenAI-compatible API.
        openai_provider: Provider name for calls to the OpenAI-compatible API
            (openai, deepseek, mistral, ...).
        session_id: Log into this session; default: the active session of
            `cwd`'s scope at the time of each call.
        cwd: The folder whose scope is meant.
        announce: Print a line on stderr for each call logged.
    """

    anthropic_upstream: str = "https://api.anthropic.com"
    openai_upstream: str = "https://api.openai.com"
    openai_provider: str = "openai"
    session_id: int | None = None
    cwd: str | None = None
    announce: bool = True

    def upstream_url(self, which: str, path: str, query: bytes) -> str:
        """Return the upstream URL for a request path and query string."""
        base = self.anthropic_upstream if which == "anthropic" else self.openai_upstream
        base = base.rstrip("/")
        # An upstream given as ".../v1" and a client that adds /v1 itself.
        if base.endswith("/v1") and path.startswith("/v1/"):
            path = path[3:]
        url = base + path
        return f"{url}?{query.decode('latin-1')}" if query else url

    def provider_of(self, route: Route) -> str:
        """Return the provider name calls of a route are logged under."""
        return route.provider or self.openai_provider


class ProxyApp:
    """The ASGI app: one upstream client, shared by every request."""

    def __init__(self, config: ProxyConfig) -> None:
        self.config = config
        self._client: httpx.AsyncClient | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._relay(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._client = httpx.AsyncClient(timeout=TIMEOUT)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._client is not None:
                    await self._client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _relay(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _read_body(receive)
        headers = _request_headers(scope)
        path = scope["path"]
        route = route_for(path) if scope["method"] == "POST" else None
        # The path goes upstream as the client encoded it.
        raw_path = scope.get("raw_path") or path.encode()
        url = self.config.upstream_url(
            upstream_for(path, headers),
            raw_path.decode("latin-1"),
            scope.get("query_string", b""),
        )

        assert self._client is not None
        request = self._client.build_request(
            scope["method"], url, headers=headers, content=body
        )
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            await _send_unreachable(send, exc)
            return

        # Providers bill neither error answers nor unmetered paths.
        copy = _Copy(route, response) if route and response.is_success else None
        try:
            await _pass_back(response, send, copy)
        finally:
            # Even when the upstream broke off mid-answer, what was used is logged.
            await response.aclose()
            if route is not None and copy is not None:
                reading = copy.finish()
                record = partial(self._record, route, reading, _requested_model(body))
                await anyio.to_thread.run_sync(record)

    def _record(self, route: Route, reading: Reading, requested: str | None) -> None:
        """Log one call into the session; a failure is reported, never raised."""
        counts = {
            "prompt_tokens": reading.prompt_tokens,
            "completion_tokens": reading.completion_tokens,
            "cache_read_tokens": reading.cache_read_tokens,
            "cache_write_tokens": reading.cache_write_tokens,
            "cache_write_1h_tokens": reading.cache_write_1h_tokens,
            "reasoning_tokens": reading.reasoning_tokens,
        }
        if all(value is None for value in counts.values()):
            counts["total_tokens"] = 0  # nothing was read: kept, cost unknown
        call = CallInput(
            provider=self.config.provider_of(route),
            model=reading.model or requested or "unknown",
            agent_name=os.environ.get(AGENT_ENV),
            allow_unpriced=True,
            source="proxy",
            external_id=reading.response_id,
            **counts,
        )
        try:
            logged = record_call(
                call,
                session_id=self.config.session_id,
                cwd=self.config.cwd,
                metered=reading.complete,
            )
        except CsError as exc:
            write_stderr(f"cs proxy: call not logged: {exc.message}")
            return
        except sqlite3.IntegrityError:
            return  # this response id is stored already (an import got there first)
        except (
            Exception
        ) as exc:  # the answer is out; a logging bug must not stop the proxy
            log.debug("logging a proxied call failed", exc_info=True)
            write_stderr(f"cs proxy: call not logged: {type(exc).__name__}: {exc}")
            return
        if self.config.announce:
            _announce(logged)


async def _read_body(receive: Receive) -> bytes:
    parts = []
    while True:
        message = await receive()
        parts.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(parts)


def _request_headers(scope: Scope) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        if name in HOP_HEADERS or name in ("host", "content-length"):
            continue
        headers[name] = raw_value.decode("latin-1")
    # The answer is relayed byte for byte and also read for its usage, so ask
    # for it uncompressed; the request body itself is never changed.
    headers["accept-encoding"] = "identity"
    return headers


def _requested_model(body: bytes) -> str | None:
    """Return the request's `model`, for answers that do not name theirs."""
    try:
        model = json.loads(body).get("model")
    except (ValueError, AttributeError):
        return None
    return model if isinstance(model, str) else None


async def _send_unreachable(send: Send, exc: httpx.HTTPError) -> None:
    body = json.dumps(
        {
            "type": "error",
            "error": {
                "type": "proxy_error",
                "message": f"cs proxy could not reach the upstream API: {exc}",
            },
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 502,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _pass_back(
    response: httpx.Response, send: Send, copy: "_Copy | None"
) -> None:
    """Relay the upstream answer unchanged, feeding a copy to the meter.

    When the upstream breaks off, the answer is left unfinished, so the server
    drops the client's connection rather than end a truncated answer cleanly.
    """
    headers = [
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in response.headers.multi_items()
        if name.lower() not in HOP_HEADERS
    ]
    await send(
        {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": headers,
        }
    )
    try:
        async for chunk in response.aiter_raw():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            if copy is not None:
                copy.feed(chunk)
        await send({"type": "http.response.body", "body": b""})
    except httpx.HTTPError as exc:
        write_stderr(f"cs proxy: the upstream API broke off its answer: {exc}")
    except OSError:
        log.debug("the client went away mid-answer")


class _Copy:
    """Reads a copy of the answer's bytes into the route's meter."""

    def __init__(self, route: Route, response: httpx.Response) -> None:
        self.meter: Meter = route.meter()
        content_type = response.headers.get("content-type", "")
        self.events = EventReader() if "text/event-stream" in content_type else None
        self.decoder = _decoder(response.headers.get("content-encoding", ""))
        self.body: list[bytes] = []
        self.size = 0

    def feed(self, chunk: bytes) -> None:
        if self.decoder is not None:
            chunk = self.decoder.decompress(chunk)
        if self.events is not None:
            for event in self.events.feed(chunk):
                self.meter.read_event(event)
        elif self.size + len(chunk) <= MAX_BODY_COPY:
            self.body.append(chunk)
            self.size += len(chunk)

    def finish(self) -> Reading:
        if self.events is not None:
            for event in self.events.close():
                self.meter.read_event(event)
        else:
            try:
                body = json.loads(b"".join(self.body))
            except ValueError:
                body = None
            if isinstance(body, dict):
                self.meter.read_body(body)
        return self.meter.reading


def _decoder(encoding: str) -> Any:
    """Return a decompressor for the copy when the upstream compressed anyway."""
    encoding = encoding.strip().lower()
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    return None


def _announce(logged: dict[str, Any]) -> None:
    from cs_core import format_usd

    cost = format_usd(logged["cost"]) if logged["priced"] else "cost unknown"
    write_stderr(
        f"cs proxy: logged {logged['provider']}/{logged['model']}, "
        f"{logged['tokens']:,} tokens, {cost} (session #{logged['sessionId']})"
    )
    for warning in logged["warnings"]:
        write_stderr(f"cs proxy: warning: {warning['message']}")


class ProxyServer:
    """The proxy bound to a port on 127.0.0.1, served from a background thread.

    Binding happens at construction, so a port in use is reported before any
    session is started.

    Raises:
        PortInUseError: The port is taken.
    """

    def __init__(self, config: ProxyConfig, port: int = 0) -> None:
        self.socket = _bind(port)
        self.port: int = self.socket.getsockname()[1]
        self.app = ProxyApp(config)
        server_config = uvicorn.Config(
            self.app,
            lifespan="on",
            log_config=None,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=10,
        )
        self._server = uvicorn.Server(server_config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self.socket]},
            name="cs-proxy",
            daemon=True,
        )

    @property
    def url(self) -> str:
        """The proxy's base URL."""
        return f"http://{HOST}:{self.port}"

    def start(self, session_id: int | None = None) -> None:
        """Serve in the background; return once the proxy accepts calls.

        Args:
            session_id: Log into this session rather than the scope's active one.
        """
        self.app.config = replace(self.app.config, session_id=session_id)
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise CsError(f"the proxy on port {self.port} did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        """Finish the calls in flight (and their logging), then stop."""
        if self._thread.is_alive():
            self._server.should_exit = True
            self._thread.join(timeout=30)
        self.socket.close()


def _bind(port: int) -> socket.socket:
    # IPPROTO_TCP, not 0: asyncio turns Nagle off only on sockets that say they
    # are TCP, and with Nagle on every answer waited ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise PortInUseError(
            f"port {port} on {HOST} is not available: {exc.strerror or exc}",
            hint="Pass --port with a free port, or leave it out for any free one.",
            port=port,
        ) from None
    sock.listen(128)
    return sock
