"""Turn raw file-system events into each path's net change since a session began.

Three parts, each testable alone:

- `IgnoreRules` says which paths a session does not track: VCS folders always, and
  in a repository whatever its ignore rules ignore.
- `Tracker` keeps the files it has seen (path, inode, mtime) and turns one debounced
  batch of touched paths into events: created, modified, deleted, renamed.
- `apply_event` folds an event into a session's per-path net changes, so each path
  has at most one row however often it changed.

No module-level work, and no watchfiles or rich here: `live.py` drives the watcher.
"""

import logging
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass

log = logging.getLogger(__name__)

# Folders of version-control systems: never session work, whatever the backend.
VCS_DIRS = frozenset({".git", ".hg", ".svn", ".bzr", "_darcs", ".jj", ".pijul"})

CREATED = "created"
MODIFIED = "modified"
DELETED = "deleted"
RENAMED = "renamed"

# A checker takes the scope root and relative paths, returns those ignored.
IgnoreChecker = Callable[[str, list[str]], set[str]]
# What makes a file the same file after a rename: its inode and mtime (ns).
FileId = tuple[int, int]


@dataclass(frozen=True)
class Event:
    """One file event, paths relative to the scope root with `/`."""

    kind: str
    path: str
    old_path: str | None = None


@dataclass(frozen=True)
class NetChange:
    """A path's net change since the session began (one `file_changes` row)."""

    change_type: str
    old_path: str | None
    timestamp: str


def is_vcs_path(rel_path: str) -> bool:
    """Return True when a relative path is, or is inside, a VCS folder."""
    return any(part in VCS_DIRS for part in rel_path.split("/"))


def checker_for(backend: object | None) -> IgnoreChecker | None:
    """Return how a session's backend decides what its repository ignores.

    A backend that knows ignore rules offers `ignored(root, paths) -> set[str]`
    (the bundled git backend does); without it nothing but VCS folders is
    ignored.
    """
    own = getattr(backend, "ignored", None)
    if not callable(own):
        return None
    return lambda root, paths: set(own(root=root, paths=paths))


class IgnoreRules:
    """What a session does not track, with a cache of ignored folders.

    Args:
        root: The scope root.
        checker: The repository's ignore query; None outside a repository.
    """

    def __init__(self, root: str, checker: IgnoreChecker | None) -> None:
        self.root = root
        self.checker = checker
        self.ignored_dirs: set[str] = set()

    def filter(self, rel_paths: Iterable[str]) -> set[str]:
        """Return the paths that are tracked: neither VCS nor ignored."""
        wanted = {p for p in rel_paths if p and not is_vcs_path(p)}
        wanted = {p for p in wanted if not self._under_ignored_dir(p)}
        if self.checker is None or not wanted:
            return wanted
        return wanted - self.checker(self.root, sorted(wanted))

    def ignored_subdirs(self, rel_dirs: list[str]) -> set[str]:
        """Return the folders among `rel_dirs` not to descend into; remember them."""
        settled = {
            d
            for d in rel_dirs
            if is_vcs_path(d) or d in self.ignored_dirs or self._under_ignored_dir(d)
        }
        rest = [d for d in rel_dirs if d not in settled]

        ignored = self.checker(self.root, rest) if self.checker and rest else set()
        self.ignored_dirs |= ignored
        return settled | ignored

    def forget(self) -> None:
        """Drop the folder cache; an ignore file changed."""
        self.ignored_dirs.clear()

    def _under_ignored_dir(self, rel_path: str) -> bool:
        parts = rel_path.split("/")
        return any(
            "/".join(parts[:depth]) in self.ignored_dirs
            for depth in range(1, len(parts))
        )


class Tracker:
    """The files of a tree as last seen, and the events that change them.

    Args:
        root: The scope root (absolute, real path).
        rules: What not to track.
    """

    def __init__(self, root: str, rules: IgnoreRules) -> None:
        self.root = root
        self.rules = rules
        self.known: dict[str, FileId] = {}

    def scan_baseline(self) -> int:
        """Record every tracked file now in the tree; return how many."""
        self.known = dict(self._walk(""))
        return len(self.known)

    def resync(self) -> list[Event]:
        """List the tree again; return what changed since it was last seen.

        For when events were lost. Without events a file counts as modified
        only when its inode or modification time changed.
        """
        now = dict(self._walk(""))
        events = _diff(self.known, now, in_place=False)
        self.known = now
        return events

    def relative(self, path: str) -> str | None:
        """Return `path` relative to the root with `/`, None when outside it."""
        if path == self.root or not path.startswith(self.root + os.sep):
            return None
        return path[len(self.root) + 1 :].replace(os.sep, "/")

    def batch(self, abs_paths: Iterable[str]) -> list[Event]:
        """Turn one debounced batch of touched paths into net events.

        Compares what the tracker knew of each path with what is on disk now, so
        the order of raw events does not matter and a burst (an editor's write to
        a temporary file and rename over the original) becomes one event.
        """
        touched = {rel for rel in map(self.relative, abs_paths) if rel}
        if any(rel.rsplit("/", 1)[-1] == ".gitignore" for rel in touched):
            self.rules.forget()

        now = self._expand(touched)
        tracked = self.rules.filter(set(now) | self._known_under(touched))
        before = {p: self.known[p] for p in tracked if p in self.known}
        after = {p: ident for p in tracked if (ident := now.get(p)) is not None}
        events = _diff(before, after)

        for path in before:
            self.known.pop(path, None)
        self.known.update(after)
        return events

    def _expand(self, touched: set[str]) -> dict[str, FileId | None]:
        """Stat touched paths; list the files of touched folders not yet known."""
        found: dict[str, FileId | None] = {}
        dirs: list[str] = []
        for rel in touched:
            kind, identity = self._stat(rel)
            if kind == "dir":
                dirs.append(rel)
            else:
                found[rel] = identity if kind == "file" else None

        skipped = self.rules.ignored_subdirs(dirs) if dirs else set()
        for rel in dirs:
            if rel in skipped:
                continue
            # Files moved in with their folder raise no event of their own.
            fresh = self._walk(rel)
            found.update({p: i for p, i in fresh if self.known.get(p) != i})
        return found

    def _known_under(self, touched: set[str]) -> set[str]:
        """Known files inside touched folders that are gone (moved or removed)."""
        gone = {rel for rel in touched if not os.path.lexists(self._abs(rel))}
        if not gone:
            return set()
        prefixes = tuple(rel + "/" for rel in gone)
        return {p for p in self.known if p.startswith(prefixes)}

    def _stat(self, rel: str) -> tuple[str, FileId | None]:
        try:
            info = os.lstat(self._abs(rel))
        except OSError:
            return "missing", None
        if stat.S_ISDIR(info.st_mode):
            return "dir", None
        return "file", (info.st_ino, info.st_mtime_ns)

    def _abs(self, rel: str) -> str:
        return os.path.join(self.root, *rel.split("/"))

    def _walk(self, start: str) -> list[tuple[str, FileId]]:
        """List tracked files under a relative folder, pruning ignored folders.

        Breadth first, so each depth costs one ignore query, not one per folder.
        """
        files: list[tuple[str, FileId]] = []
        level = [start]
        while level:
            subdirs: list[str] = []
            for rel_dir in level:
                subdirs.extend(self._list_dir(rel_dir, files))
            pruned = self.rules.ignored_subdirs(subdirs)
            level = [d for d in subdirs if d not in pruned]

        if not files:
            return files
        keep = self.rules.filter(path for path, _ in files)
        return [(path, identity) for path, identity in files if path in keep]

    def _list_dir(self, rel_dir: str, files: list[tuple[str, FileId]]) -> list[str]:
        subdirs: list[str] = []
        try:
            entries = list(os.scandir(self._abs(rel_dir) if rel_dir else self.root))
        except OSError:
            return subdirs

        for entry in entries:
            if not _utf8(entry.name):
                continue  # the watcher cannot report such names; the scan can
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    subdirs.append(rel)
                else:
                    info = entry.stat(follow_symlinks=False)
                    files.append((rel, (info.st_ino, info.st_mtime_ns)))
            except OSError:
                continue
        return subdirs


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes, kept as surrogates
        return False
    return True


def _diff(
    before: dict[str, FileId], after: dict[str, FileId], *, in_place: bool = True
) -> list[Event]:
    """Events that take the files `before` to the files `after`.

    A file gone from one path whose identity (inode and mtime) now sits at a new
    path was renamed; one whose identity now sits at a path that already existed
    replaced that file. The mtime keeps a new file that reuses a freed inode from
    passing for a rename. With `in_place`, every path in both was touched
    (modified); without, only those whose identity changed.
    """
    gone = {p: ident for p, ident in before.items() if p not in after}
    appeared = {p: ident for p, ident in after.items() if p not in before}
    by_identity = {identity: p for p, identity in gone.items()}

    events: list[Event] = []
    for path, identity in sorted(appeared.items()):
        source = by_identity.pop(identity, None)
        if source is not None:
            del gone[source]
            events.append(Event(RENAMED, path, source))
        else:
            events.append(Event(CREATED, path))
    events.extend(Event(DELETED, path) for path in sorted(gone))

    kept = sorted(path for path in before if path in after)
    events.extend(
        Event(MODIFIED, path)
        for path in kept
        if in_place or before[path] != after[path]
    )
    return events


def apply_event(rows: dict[str, NetChange], event: Event, at: str) -> None:
    """Fold one event into per-path net changes (mutates `rows`).

    Created then modified stays created; created then deleted leaves nothing;
    deleted then created is modified; a renamed file keeps its first path.
    """
    if event.kind == RENAMED and event.old_path is not None:
        _renamed(rows, event.old_path, event.path, at)
    elif event.kind == DELETED:
        _deleted(rows, event.path, at)
    elif event.kind == CREATED:
        _created(rows, event.path, at)
    else:
        _modified(rows, event.path, at)


def _created(rows: dict[str, NetChange], path: str, at: str) -> None:
    current = rows.get(path)
    origin_of = [
        p for p, r in rows.items() if r.change_type == RENAMED and r.old_path == path
    ]

    if origin_of:
        # A file moved away and a new one took its place: the place was modified
        # and the moved file is new, as git itself would report it.
        for moved in origin_of:
            rows[moved] = NetChange(CREATED, None, rows[moved].timestamp)
        rows[path] = NetChange(MODIFIED, None, at)
    elif current is None:
        rows[path] = NetChange(CREATED, None, at)
    elif current.change_type == DELETED:
        rows[path] = NetChange(MODIFIED, None, at)
    else:
        rows[path] = NetChange(current.change_type, current.old_path, at)


def _modified(rows: dict[str, NetChange], path: str, at: str) -> None:
    current = rows.get(path)
    if current is None or current.change_type == DELETED:
        rows[path] = NetChange(MODIFIED, None, at)
    else:
        rows[path] = NetChange(current.change_type, current.old_path, at)


def _deleted(rows: dict[str, NetChange], path: str, at: str) -> None:
    current = rows.pop(path, None)
    if current is None or current.change_type in (MODIFIED, DELETED):
        rows[path] = NetChange(DELETED, None, at)
    elif current.change_type == RENAMED and current.old_path is not None:
        _origin_gone(rows, current.old_path, at)


def _origin_gone(rows: dict[str, NetChange], origin: str, at: str) -> None:
    """The file that began at `origin` is gone for good."""
    there = rows.get(origin)
    if there is None:
        rows[origin] = NetChange(DELETED, None, at)
    elif there.change_type == CREATED:
        rows[origin] = NetChange(MODIFIED, None, at)


def _renamed(rows: dict[str, NetChange], old: str, new: str, at: str) -> None:
    target = rows.get(new)
    if target is not None and target.change_type == DELETED:
        # Moved over a path that existed at the start: that file was replaced.
        _deleted(rows, old, at)
        _modified(rows, new, at)
        return

    current = rows.pop(old, None)
    if current is None or current.change_type in (MODIFIED, DELETED):
        rows[new] = NetChange(RENAMED, old, at)
    elif current.change_type == CREATED:
        rows[new] = NetChange(CREATED, None, at)
    elif current.old_path == new:
        rows[new] = NetChange(MODIFIED, None, at)
    else:
        rows[new] = NetChange(RENAMED, current.old_path, at)
