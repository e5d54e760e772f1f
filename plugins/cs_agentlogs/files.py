"""Finding log files under folders."""

import os
from collections.abc import Iterable
from pathlib import Path


def jsonl_files(roots: Iterable[Path]) -> list[Path]:
    """Return every `*.jsonl` file under `roots`, each real file once, sorted."""
    seen: set[str] = set()
    found: list[Path] = []
    for root in roots:
        if root.is_file():
            candidates: Iterable[Path] = [root]
        else:
            candidates = _walk(root)
        for path in candidates:
            real = os.path.realpath(path)
            if real not in seen:
                seen.add(real)
                found.append(path)
    return sorted(found)


def _walk(root: Path) -> Iterable[Path]:
    for folder, _, names in os.walk(root):
        for name in names:
            if name.endswith(".jsonl"):
                yield Path(folder, name)


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
