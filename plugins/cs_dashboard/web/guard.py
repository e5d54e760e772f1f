"""Who may talk to the dashboard: Host checks, the access token, same-origin POSTs.

A loopback bind alone does not stop a web page elsewhere from reaching the
dashboard through DNS rebinding, so a request must name the address being
served in its Host header. Any non-loopback bind also needs a random token:
in the URL once (it is then kept in a cookie), or as a bearer token.
"""

import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

Scope = MutableMapping[str, Any]
Asgi = Callable[..., Awaitable[None]]

TOKEN_COOKIE = "cs_dashboard_token"
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARDS = frozenset({"0.0.0.0", "::", ""})


@dataclass
class Settings:
    """What `cs dashboard` told the plugin; empty under plain `datasette`."""

    bind_host: str | None = None
    token: str | None = None


SETTINGS = Settings()


def split_host(value: str) -> tuple[str, int | None]:
    """Split a Host header into a lower-case name and an optional port."""
    value = value.strip().lower()
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        name, _, port = value.partition(":")
    return name, int(port) if port.isdigit() else None


def host_allowed(host_header: str, scope: Scope) -> bool:
    """Tell whether the Host header names the address this server answers on."""
    name, port = split_host(host_header)
    server = scope.get("server") or (None, None)
    if port is not None and server[1] is not None and port != server[1]:
        return False
    bind = (SETTINGS.bind_host or "").strip("[]").lower()
    if SETTINGS.bind_host is not None and bind in WILDCARDS:
        return bool(name)  # every address is served; the token guards it
    allowed = {str(server[0] or "").lower(), bind} - {""}
    if allowed & LOOPBACK_NAMES:
        allowed |= LOOPBACK_NAMES
    return name in allowed


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}


def _presented_token(scope: Scope, headers: dict[str, str]) -> tuple[str, bool]:
    """Return the token the request carries, and whether it came in the URL."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if query.get("token"):
        return query["token"][0], True
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip(), False
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except CookieError:  # a malformed cookie header is just no token
        return "", False
    morsel = cookie.get(TOKEN_COOKIE)
    return (morsel.value if morsel else ""), False


def _same_origin(headers: dict[str, str]) -> bool:
    origin = headers.get("origin")
    if not origin:
        return True  # not sent by a browser making a cross-site request
    return urlsplit(origin).netloc.lower() == headers.get("host", "").lower()


async def _refuse(send: Asgi, status: int, text: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": text.encode("utf-8")})


def wrap(app: Asgi) -> Asgi:
    """Wrap the Datasette ASGI app with the Host, token and origin checks."""

    async def guarded(scope: Scope, receive: Asgi, send: Asgi) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        send = _timed(send)
        headers = _headers(scope)
        if not host_allowed(headers.get("host", ""), scope):
            await _refuse(send, 403, "Forbidden: unexpected Host header.\n")
            return
        if scope["method"] not in ("GET", "HEAD", "OPTIONS") and not _same_origin(
            headers
        ):
            await _refuse(send, 403, "Forbidden: cross-origin request.\n")
            return
        if SETTINGS.token is None:
            await app(scope, receive, send)
            return
        token, in_url = _presented_token(scope, headers)
        if not secrets.compare_digest(token.encode(), SETTINGS.token.encode()):
            await _refuse(send, 401, "Unauthorized: open the URL with the token.\n")
            return
        await app(scope, receive, _with_cookie(send) if in_url else send)

    return guarded


def _with_cookie(send: Asgi) -> Asgi:
    """Keep the URL's token in a cookie, so links and assets carry it."""

    async def sending(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start" and SETTINGS.token:
            cookie = (
                f"{TOKEN_COOKIE}={SETTINGS.token}; Path=/; HttpOnly; SameSite=Strict"
            )
            headers = [*message.get("headers", []), (b"set-cookie", cookie.encode())]
            message = {**message, "headers": headers}
        await send(message)

    return sending


def _timed(send: Asgi) -> Asgi:
    """Add a Server-Timing header: wall and process CPU time until the response."""
    started, cpu = time.perf_counter(), time.process_time()

    async def sending(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            elapsed = (time.perf_counter() - started) * 1000
            used = (time.process_time() - cpu) * 1000
            timing = f"app;dur={elapsed:.1f}, cpu;dur={used:.1f}".encode()
            headers = [*message.get("headers", []), (b"server-timing", timing)]
            message = {**message, "headers": headers}
        await send(message)

    return sending
