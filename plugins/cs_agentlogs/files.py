"""Finding log files under folders."""

import os
from collections.abc import Iterable, Iterator
from pathlib import Path


def jsonl_files(roots: Iterable[Path]) -> list[str]:
    """Return every `*.jsonl` file under `roots`, sorted by path.

    Paths stay strings: building thousands of `Path` objects costs more than a
    run with nothing new to read may take.

    A root listed twice (or inside another root) is scanned once. Symbolic links
    to folders are not followed, so no file is found twice below one root.
    """
    found: list[str] = []
    scanned: list[str] = []

    for root in roots:
        real = os.path.realpath(root)
        if any(real == done or real.startswith(done + os.sep) for done in scanned):
            continue
        scanned.append(real)
        # Absolute, so a file's read position is found again from any folder.
        top = os.path.abspath(root)
        if os.path.isfile(top):
            found.append(top)
        else:
            found.extend(_walk(top))

    return sorted(found)


def _walk(root: str) -> Iterator[str]:
    for folder, _, names in os.walk(root):
        for name in names:
            if name.endswith(".jsonl"):
                yield os.path.join(folder, name)


def split_env(value: str | None) -> list[Path]:
    """Split a comma-separated list of folders from an environment variable."""
    if not value:
        return []
    return [
        Path(part.strip()).expanduser() for part in value.split(",") if part.strip()
    ]


def count(value: object) -> int | None:
    """Return a token count from JSON: a whole number of 0 or more, else None."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value
