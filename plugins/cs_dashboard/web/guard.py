"""Who may talk to the dashboard: Host checks, the access token, same-origin POSTs.

A loopback bind alone does not stop a web page elsewhere from reaching the
dashboard through DNS rebinding, so a request must name the address being
served in its Host header. Any non-loopback bind also needs a random token:
in the URL once (it is then kept in a cookie), or as a bearer token.

A write (any method but GET, HEAD and OPTIONS) must show it comes from the
dashboard's own pages: refused when Sec-Fetch-Site says another site, or Origin
or Referer names another host; with neither header, only a valid CSRF token
(the signed one of its cookie) lets it through.
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
Receive = Callable[[], Awaitable[dict[str, Any]]]

TOKEN_COOKIE = "cs_dashboard_token"
CSRF_COOKIE = "ds_csrftoken"  # Datasette's asgi-csrf names it so
CSRF_FIELD = "csrftoken"
MAX_FORM_BYTES = 64 * 1024
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
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


def _names_this_host(url: str, headers: dict[str, str]) -> bool:
    return urlsplit(url).netloc.lower() == headers.get("host", "").lower()


def origin_verdict(headers: dict[str, str]) -> bool | None:
    """Judge a write by the headers a browser adds to say where it comes from.

    Returns:
        True for the dashboard's own pages, False for any other site, None when
        the request names no origin at all (then the CSRF token must decide).
    """
    if headers.get("sec-fetch-site", "").lower() in ("cross-site", "same-site"):
        return False
    for name in ("origin", "referer"):
        if headers.get(name):
            return _names_this_host(headers[name], headers)
    return None


def token_valid(
    form_token: str, headers: dict[str, str], verify: Callable[[str], bool]
) -> bool:
    """Tell whether the form's CSRF token is the signed one in the request's cookie."""
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except CookieError:
        return False
    morsel = cookie.get(CSRF_COOKIE)
    if not form_token or morsel is None:
        return False
    same = secrets.compare_digest(form_token.encode(), morsel.value.encode())
    return same and verify(form_token)


async def _buffered(receive: Receive) -> tuple[bytes, Receive] | None:
    """Read the whole request body and return it with a receive that replays it.

    Returns:
        None when the body is larger than any dashboard form.
    """
    chunks: list[bytes] = []
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > MAX_FORM_BYTES:
            return None
        more = message.get("more_body", False)
    body, sent = b"".join(chunks), False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay


async def _proves_token(
    headers: dict[str, str], receive: Receive, verify: Callable[[str], bool]
) -> Receive | None:
    """Check the CSRF token of a write that names no origin.

    Datasette's asgi-csrf lets requests without cookies through; here a write
    with neither Origin nor Referer must carry the token (form field or
    x-csrftoken header) that matches its signed cookie.

    Returns:
        The receive to pass on (the body replayed), or None to refuse.
    """
    if token_valid(headers.get("x-csrftoken", ""), headers, verify):
        return receive
    kind = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return None
    read = await _buffered(receive)
    if read is None:
        return None
    body, replay = read
    form = parse_qs(body.decode("latin-1"))
    form_token = (form.get(CSRF_FIELD) or [""])[0]
    return replay if token_valid(form_token, headers, verify) else None


async def _refuse(send: Asgi, status: int, text: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": text.encode("utf-8")})


def wrap(app: Asgi, verify: Callable[[str], bool]) -> Asgi:
    """Wrap the Datasette ASGI app with the Host, token and origin checks.

    Args:
        app: Datasette's ASGI app.
        verify: Tells whether a CSRF token carries Datasette's signature.
    """

    async def guarded(scope: Scope, receive: Receive, send: Asgi) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        send = _timed(send)
        headers = _headers(scope)
        if not host_allowed(headers.get("host", ""), scope):
            await _refuse(send, 403, "Forbidden: unexpected Host header.\n")
            return
        if scope["method"] not in SAFE_METHODS:
            verdict = origin_verdict(headers)
            if verdict is None:
                checked = await _proves_token(headers, receive, verify)
                verdict, receive = checked is not None, checked or receive
            if not verdict:
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
