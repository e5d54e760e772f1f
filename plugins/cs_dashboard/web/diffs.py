"""Diffs read from the session's repository when a page asks for them."""

import re
from typing import Any

from cs_core import backend_for

MAX_DIFF_CHARS = 400_000
_HEADER = re.compile(r"^diff --git a/(.*?) b/(.*)$")


def session_diff(session: dict[str, Any], commit: str | None) -> dict[str, Any]:
    """Return the diff of one commit, or of the tree since the session started.

    The text is split into one block per file; `error` says why there is none.
    """
    backend = backend_for(session)  # type: ignore[arg-type]
    if backend is None:
        return {"files": [], "error": "This session has no repository to read."}
    text = backend.diff(session["git_root"], session["start_git_head"], commit)
    truncated = len(text) > MAX_DIFF_CHARS
    files = split_files(text[:MAX_DIFF_CHARS])
    error = None if files else "No changes, or the repository could not be read."
    return {"files": files, "error": error, "truncated": truncated}


def split_files(text: str) -> list[dict[str, str]]:
    """Split a unified diff into blocks, one per file."""
    blocks: list[dict[str, str]] = []
    current: list[str] = []
    path = ""
    for line in text.splitlines():
        header = _HEADER.match(line)
        if header:
            if current:
                blocks.append({"path": path, "text": "\n".join(current)})
            path, current = header.group(2), []
        current.append(line)
    if current:
        blocks.append({"path": path or "(diff)", "text": "\n".join(current)})
    return blocks
