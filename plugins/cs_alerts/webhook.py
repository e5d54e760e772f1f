"""The webhook sink: POST the alert as JSON to a URL.

The timeout bounds the whole delivery, retries included, so a host that is down
or never answers delays the command that fired the alert by at most that long.
"""

import sys
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from cs_core import InvalidInputError, __version__

DEFAULT_TIMEOUT_SECONDS = 3.0
DEFAULT_RETRIES = 2
# Pause before retry n is BACKOFF * 2**n: short, since a person may be waiting.
BACKOFF_SECONDS = 0.1


class WebhookSink:
    """Delivers alerts to an HTTP(S) endpoint, retrying transient failures."""

    kind = "webhook"

    def validate(self, target: str) -> None:
        """Check that `target` is an absolute http or https URL with a usable port.

        Raises:
            InvalidInputError: It is not.
        """
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidInputError(
                f"webhook URL must start with http:// or https://, not '{target}'"
            )
        try:
            port = parts.port  # a port past 65535 or not a number raises here
        except ValueError:
            port = 0
        if not parts.hostname or port == 0:
            raise InvalidInputError(
                f"webhook URL '{target}' needs a host name and a port from 1 to 65535"
            )

    def send(self, alert: Mapping[str, Any], config: Mapping[str, Any]) -> None:
        """POST the alert; retry connection errors, timeouts and 5xx answers.

        Args:
            alert: The alert document, sent as the JSON body.
            config: `target` (the URL), `timeout` (seconds, all attempts
                together) and `retries`.

        Raises:
            RuntimeError: Every attempt failed, or the server refused the alert.
        """
        timeout = float(config.get("timeout", DEFAULT_TIMEOUT_SECONDS))
        retries = int(config.get("retries", DEFAULT_RETRIES))
        deadline = time.monotonic() + timeout  # the import counts too

        httpx = _import_httpx()
        error: str | None = "no attempt made"
        # Loading the CA bundle costs ~150 ms; plain http never negotiates TLS
        # (redirects are not followed), so only https pays for it.
        https = urlsplit(config["target"]).scheme == "https"
        with httpx.Client(verify=https, follow_redirects=False) as client:
            for attempt in range(retries + 1):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                error = _attempt(httpx, client, config["target"], alert, remaining)
                if error is None:
                    return
                pause = BACKOFF_SECONDS * 2**attempt
                if attempt < retries and deadline - time.monotonic() > pause:
                    time.sleep(pause)
        raise RuntimeError(f"webhook {config['target']} failed: {error}")


def _import_httpx() -> Any:
    """Import httpx (~130 ms, paid only when an alert fires) without its CLI.

    httpx's `__init__` imports its command-line tool when click and rich are
    installed, which cs's own dependencies make true: another 150-600 ms here.
    A `None` entry in `sys.modules` makes that optional import fail, as it does
    where they are missing; the entry is removed again right after.
    """
    if "httpx" in sys.modules:
        return sys.modules["httpx"]
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    try:
        import httpx
    finally:
        if sys.modules.get("httpx._main") is None:
            del sys.modules["httpx._main"]
    return httpx


def _attempt(
    httpx: Any, client: Any, url: str, alert: Mapping[str, Any], timeout: float
) -> str | None:
    """Make one POST; return None on success, else why it failed."""
    try:
        response = client.post(
            url,
            json=dict(alert),
            timeout=timeout,
            headers={"User-Agent": f"codesession/{__version__}"},
        )
    except httpx.TransportError as exc:
        return f"{type(exc).__name__}: {exc}"

    if response.status_code >= 500:
        return f"HTTP {response.status_code}"
    if response.status_code >= 400:
        # A 4xx will not get better by retrying: report it at once.
        raise RuntimeError(
            f"webhook {url} refused the alert: HTTP {response.status_code}"
        )
    return None
