"""Turn git's NUL-separated output into commits and net file changes.

git prints paths and subjects as raw bytes; they are decoded as UTF-8 with
U+FFFD for anything invalid (B17), whatever the locale.
"""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import NamedTuple

from cs_core import Commit, FileChange

# The `git log` format: hash, author date, committer date, subject.
LOG_FORMAT = "--format=%H%x00%aI%x00%cI%x00%s"
_LOG_FIELDS = 4

# `--name-status` letters; C (a copy) creates its new path, and the rest
# (M, T, U for a merge conflict) modify it.
_STAGED_TYPES = {"A": "created", "C": "created", "D": "deleted", "R": "renamed"}

# A bigger new folder stays one `dir/` entry: most likely build output that
# nobody has ignored yet, not worth a row per file.
MAX_FILES_PER_NEW_DIR = 1000


class LoggedCommit(NamedTuple):
    """A commit and its committer date, which `until` is compared with."""

    commit: Commit
    committed_at: str


def decode(raw: bytes) -> str:
    """Decode git output as UTF-8, with U+FFFD for invalid bytes."""
    return raw.decode("utf-8", "replace")


def parse_instant(text: str) -> datetime:
    """Parse an ISO-8601 instant; one without an offset is taken as UTC.

    Raises:
        ValueError: The text is not an ISO-8601 instant.
    """
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def parse_log(raw: bytes) -> list[LoggedCommit]:
    """Parse `git log -z` output printed with `LOG_FORMAT`."""
    fields = split_fields(raw)
    commits = []
    for start in range(0, len(fields) - _LOG_FIELDS + 1, _LOG_FIELDS):
        sha, authored, committed, subject = fields[start : start + _LOG_FIELDS]
        commit = Commit(hash=sha, message=subject, timestamp=authored)
        commits.append(LoggedCommit(commit, committed))
    return commits


def parse_name_status(raw: bytes) -> list[FileChange]:
    """Parse `git diff-* --name-status -z` output: one change per path."""
    fields = iter(split_fields(raw))
    changes = []
    for status in fields:
        letter = status[:1]
        change_type = _STAGED_TYPES.get(letter, "modified")
        if letter in ("R", "C"):
            old_path, path = next(fields, ""), next(fields, "")
            old = old_path if letter == "R" else None
            changes.append(FileChange(path, change_type, old))
        else:
            changes.append(FileChange(next(fields, ""), change_type))
    return [change for change in changes if change.path]


def parse_status(raw: bytes) -> tuple[dict[str, str], list[str]]:
    """Parse `git status --porcelain=v1 -z --no-renames` output.

    Returns:
        The worktree column (Y) of each tracked path that differs from the
        index, and the untracked paths, ending in `/` for a folder git
        collapsed.
    """
    worktree: dict[str, str] = {}
    untracked: list[str] = []
    for entry in split_fields(raw):
        code, path = entry[:2], entry[3:]
        if code == "??":
            untracked.append(path)
        elif code[1:].strip() and path:
            worktree[path] = code[1]
    return worktree, untracked


def expand_new_dirs(untracked: list[str], listed: Iterable[str]) -> list[str]:
    """Replace each collapsed untracked folder with the files in it.

    Args:
        untracked: Paths from `parse_status`, folders ending in `/`.
        listed: Every untracked, not ignored file (`git ls-files --others`).

    Returns:
        The untracked files; a folder with more than `MAX_FILES_PER_NEW_DIR`
        files stays one entry.
    """
    folders = {path for path in untracked if path.endswith("/")}
    inside: dict[str, list[str]] = {folder: [] for folder in folders}
    for path in listed:
        folder = _enclosing(path, folders)
        if folder is not None:
            inside[folder].append(path)

    expanded = [path for path in untracked if path not in folders]
    for folder, files in inside.items():
        big = not files or len(files) > MAX_FILES_PER_NEW_DIR
        expanded.extend([folder] if big else files)
    return expanded


def net_changes(
    staged: Iterable[FileChange], worktree: dict[str, str], untracked: Iterable[str]
) -> tuple[FileChange, ...]:
    """Combine base-to-index, index-to-tree and untracked changes per path.

    Args:
        staged: Changes from the base revision to the index, with renames.
        worktree: The status column Y of paths whose file differs from the
            index.
        untracked: Untracked paths that are not ignored.

    Returns:
        One net change per path, sorted by path. A file created and deleted
        again since the base nets out to nothing.
    """
    changes = {change.path: change for change in staged}
    for path, column in worktree.items():
        if column == "D":
            _apply_tree_deletion(changes, path)
        elif column == "A":
            # An intent-to-add entry: in the index by name, not by content.
            changes.setdefault(path, FileChange(path, "created"))
        else:
            changes.setdefault(path, FileChange(path, "modified"))

    for path in untracked:
        # A path removed from the index but kept on disk stays "deleted".
        changes.setdefault(path, FileChange(path, "created"))
    return by_path(changes.values())


def by_path(changes: Iterable[FileChange]) -> tuple[FileChange, ...]:
    """Return changes sorted by path."""
    return tuple(sorted(changes, key=lambda change: change.path))


def split_fields(raw: bytes) -> list[str]:
    """Split NUL-terminated git output (`-z`) into decoded fields."""
    if not raw:
        return []
    return [decode(field) for field in raw.removesuffix(b"\0").split(b"\0")]


def _apply_tree_deletion(changes: dict[str, FileChange], path: str) -> None:
    """Record that `path`, present in the index, is gone from the tree."""
    prior = changes.pop(path, None)
    if prior is None or prior.change_type == "modified":
        changes[path] = FileChange(path, "deleted")
    elif prior.change_type == "renamed" and prior.old_path is not None:
        changes[prior.old_path] = FileChange(prior.old_path, "deleted")


def _enclosing(path: str, folders: set[str]) -> str | None:
    """Return the folder in `folders` that contains `path`, if any."""
    cut = path.find("/")
    while cut != -1:
        if path[: cut + 1] in folders:
            return path[: cut + 1]
        cut = path.find("/", cut + 1)
    return None
