"""Error pages that say what went wrong and print nothing to stdout.

Datasette 0.65's own handler prints every exception, a plain 404 included,
with rich and its local variables to stdout, where `cs dashboard --json` has
promised one JSON document; outside an `except:` block that printing even
fails and turns a 404 into a 500. `cs dashboard` blocks that handler and
answers with this one instead. Unexpected errors are logged to stderr.
"""

import logging
from typing import Any

from datasette import Response
from datasette.utils.asgi import Base400, Request
from datasette.views.base import DatasetteError
from markupsafe import Markup

DEFAULT_HANDLER = "datasette.handle_exception"
log = logging.getLogger("cs_dashboard")


def describe(exception: BaseException) -> tuple[int, str, str | None, dict[str, Any]]:
    """Return the status, message, title and extra JSON fields for an exception."""
    if isinstance(exception, Base400):
        return exception.status, str(exception.args[0]), None, {}
    if isinstance(exception, DatasetteError):
        message: str = exception.message
        if exception.message_is_html:
            message = Markup(message)
        return exception.status, message, exception.title, dict(exception.error_dict)
    return 500, "Internal error: the dashboard could not answer.", None, {}


async def respond(
    datasette: Any, request: Request, exception: BaseException
) -> Response:
    """Build the error response, JSON for `.json` paths and HTML otherwise."""
    status, message, title, info = describe(exception)
    if status >= 500:
        # Details go to stderr only: the page must not show paths or SQL.
        log.error("%s %s failed", request.method, request.path, exc_info=exception)

    info.update({"ok": False, "error": message, "status": status, "title": title})
    if request.path.endswith(".json"):
        return Response.json(info, status=status)
    template = datasette.jinja_env.select_template([f"{status}.html", "error.html"])
    html = await template.render_async(
        {
            **info,
            "urls": datasette.urls,
            "app_css_hash": datasette.app_css_hash(),
            "menu_links": lambda: [],
        }
    )
    return Response.html(html, status=status)
