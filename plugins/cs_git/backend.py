"""The git backend: a session's scope, its HEAD, and what changed since.

Every answer comes from a handful of whole-repository git calls, never one
per file, and none of them writes to the repository (B23). When git cannot
answer (missing, too slow, not a repository) a method returns its "unknown"
value instead of raising.
"""

import logging
import os
import re
from datetime import datetime

from cs_core import Commit, HeadInfo, RepoInfo, ScanResult

from . import changes, discovery
from .errors import GitUnavailableError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 20.0

# Revisions come from the database; checking their shape keeps them from
# ever reaching git as an option.
_OBJECT_NAME = re.compile(r"[0-9a-fA-F]{4,64}")
_BRANCH_REF = "refs/heads/"
_UNKNOWN_HEAD = HeadInfo(sha=None, branch=None)
_NOTHING = ScanResult(commits=(), files=())

# B23: porcelain v1 with NULs, no descent into submodules or ignored folders.
_STATUS = (
    "status",
    "--porcelain=v1",
    "-z",
    "--no-renames",
    "--untracked-files=normal",
    "--ignore-submodules=dirty",
)


class GitBackend:
    """Scope sessions by git working tree and scan what they changed.

    `root` arguments are working tree top levels as `find_root` returns them;
    `since` is the full hash HEAD had when the session started, None if
    there was no commit yet.
    """

    name = "git"

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        """Create a backend whose git calls each give up after `timeout_s`."""
        self.timeout_s = timeout_s

    def find_root(self, path: str) -> RepoInfo | None:
        """Return the working tree that contains `path`, or None outside git.

        Reads a few small files and starts no process, unless variables such
        as `GIT_DIR` steer git's discovery; then git itself is asked.
        """
        try:
            if discovery.env_steers_discovery():
                return self._find_root_with_git(path)
            found = discovery.find_worktree(path)
        except (GitUnavailableError, OSError, ValueError) as exc:
            _log_unknown("root", path, exc)
            return None
        if found is None:
            return None

        root, gitdir = found
        common_dir = discovery.common_dir_of(gitdir)
        return RepoInfo(self.name, root, discovery.project_root_of(common_dir))

    def head(self, root: str) -> HeadInfo:
        """Return HEAD's full hash (None if unborn) and branch (None if detached).

        Both are None when git cannot answer.
        """
        try:
            return HeadInfo(sha=self._head_sha(root), branch=self._branch(root))
        except GitUnavailableError as exc:
            _log_unknown("HEAD", root, exc)
            return _UNKNOWN_HEAD

    def commits_since(self, root: str, since: str | None) -> tuple[Commit, ...]:
        """Return the commits reachable from HEAD but not `since`, oldest first.

        Empty when HEAD is unborn or git cannot answer.
        """
        try:
            return tuple(logged.commit for logged in self._log(root, since))
        except GitUnavailableError as exc:
            _log_unknown("commits", root, exc)
            return ()

    def scan(
        self, root: str, since: str | None, until: str | None = None
    ) -> ScanResult | None:
        """Return the commits since `since` and the net change of each path.

        Args:
            root: The working tree's top level.
            since: HEAD's hash at the start; None compares with an empty tree.
            until: An ISO-8601 instant. When given, only commits committed by
                then count, and files are those they changed: the working
                tree is not looked at.

        Returns:
            Commits oldest first and file changes sorted by path; both empty
            when git cannot answer.
        """
        try:
            if until is None:
                return self._scan_tree(root, since)
            return self._scan_until(root, since, changes.parse_instant(until))
        except (GitUnavailableError, ValueError) as exc:
            _log_unknown("scan", root, exc)
            return None

    def snapshot(self, root: str) -> dict[str, str] | None:
        """Return every path that differs from HEAD now, with its content's hash.

        What was already uncommitted when a session started is not the
        session's work unless it changes again; comparing this snapshot at the
        start and at the end tells the two apart. A deleted file maps to "-",
        anything that is not a regular file (a submodule) to "?". None when git
        cannot answer. Four whole-repository calls; paths go on stdin.
        """
        try:
            head = self._head_sha(root)
            base = head if head is not None else self._base(root, None)
            _, staged = self._git(
                root, "diff-index", "--cached", "-z", "--name-only", base, "--"
            )
            _, status = self._git(root, *_STATUS)
            worktree, untracked = changes.parse_status(status)
            if any(path.endswith("/") for path in untracked):
                untracked = self._expand_new_dirs(root, untracked)
            paths = sorted(
                {*changes.split_fields(staged), *worktree, *untracked}
                - {path for path in untracked if path.endswith("/")}
            )
            return dict(zip(paths, self._fingerprints(root, paths), strict=True))
        except (GitUnavailableError, ValueError) as exc:
            _log_unknown("snapshot", root, exc)
            return None

    def _fingerprints(self, root: str, paths: list[str]) -> list[str]:
        """Hash each regular file's content in one call; "-" gone, "?" other."""
        kinds = [_kind(os.path.join(root, path)) for path in paths]
        files = [path for path, kind in zip(paths, kinds, strict=True) if kind == "f"]
        hashes: list[str] = []
        if files:
            _, out = self._git(
                root, "hash-object", "--stdin-paths",
                stdin="".join(f"{path}\n" for path in files).encode(),
            )  # fmt: skip
            hashes = changes.decode(out).split()
        found = iter(hashes)
        return [next(found, "?") if kind == "f" else kind for kind in kinds]

    def diff(self, root: str, since: str | None, commit: str | None = None) -> str:
        """Return the unified diff of `commit`, or of tracked files since `since`.

        Empty when git cannot answer.
        """
        # Plumbing, not `git show` or `git diff`: user settings (noprefix,
        # colour, an external diff tool) cannot change the text, and `git diff`
        # rewrites the index even with optional locks off (git 2.39, B23).
        try:
            if commit is not None:
                args = ["diff-tree", "-p", "-M", "--root", "--no-commit-id", "--cc"]
                args.append(_revision(commit))
            else:
                args = ["diff-index", "-p", "-M", "--ignore-submodules=dirty"]
                args.append(self._base(root, since))
            _, out = self._git(root, *args, "--")
        except GitUnavailableError as exc:
            _log_unknown("diff", root, exc)
            return ""
        return changes.decode(out)

    def _find_root_with_git(self, path: str) -> RepoInfo | None:
        """Ask git for the top level and shared git directory around `path`."""
        start = os.path.realpath(path)
        if not os.path.isdir(start):
            start = os.path.dirname(start)
        _, out = self._git(start, "rev-parse", "--show-toplevel", "--git-common-dir")
        lines = out.splitlines()
        if len(lines) != 2:
            return None

        # Paths, not text: keep undecodable bytes usable as a directory name.
        root = os.path.realpath(os.fsdecode(lines[0]))
        common_dir = os.path.realpath(os.path.join(start, os.fsdecode(lines[1])))
        return RepoInfo(self.name, root, discovery.project_root_of(common_dir))

    def _head_sha(self, root: str) -> str | None:
        """Return HEAD's full hash, or None when no commit exists yet."""
        code, out = self._git(
            # ^{commit}: a HEAD naming a missing object is no commit at all.
            root,
            "rev-parse",
            "-q",
            "--verify",
            "HEAD^{commit}",
            ok_codes=(0, 1),
        )
        sha = changes.decode(out).strip()
        return sha if code == 0 and _OBJECT_NAME.fullmatch(sha) else None

    def _branch(self, root: str) -> str | None:
        """Return the checked-out branch, or None when HEAD is detached.

        Not `symbolic-ref --short`: it answers `heads/main` when a tag is
        also named `main`.
        """
        code, out = self._git(root, "symbolic-ref", "-q", "HEAD", ok_codes=(0, 1))
        ref = changes.decode(out).strip()
        if code != 0 or not ref.startswith(_BRANCH_REF):
            return None
        return ref.removeprefix(_BRANCH_REF)

    def _log(self, root: str, since: str | None) -> list[changes.LoggedCommit]:
        """Return HEAD's commits not reachable from `since`, oldest first.

        Walking from this worktree's HEAD, never by date across all refs,
        keeps another worktree's commits out (B13).
        """
        head = self._head_sha(root)
        if head is None:
            return []

        exclude = ["--not", _revision(since)] if since is not None else []
        _, out = self._git(
            root,
            "log",
            "-z",
            "--date-order",
            "--reverse",
            "--no-show-signature",
            "--encoding=UTF-8",
            changes.LOG_FORMAT,
            head,
            *exclude,
            "--",
        )
        return changes.parse_log(out)

    def _scan_tree(self, root: str, since: str | None) -> ScanResult:
        """Scan commits plus the staged, unstaged and untracked changes."""
        commits = tuple(logged.commit for logged in self._log(root, since))

        # Base to index from `diff-index --cached`, index to tree from
        # `status`: `git diff BASE` would rewrite the index, and
        # `diff-index BASE` reports every touched file as modified.
        base = self._base(root, since)
        _, staged = self._git(
            root, "diff-index", "--cached", "-z", "--name-status", "-M", base, "--"
        )
        _, status = self._git(root, *_STATUS)

        worktree, untracked = changes.parse_status(status)
        if any(path.endswith("/") for path in untracked):
            untracked = self._expand_new_dirs(root, untracked)
        staged_changes = changes.parse_name_status(staged)
        files = changes.net_changes(staged_changes, worktree, untracked)
        return ScanResult(commits=commits, files=files)

    def _expand_new_dirs(self, root: str, untracked: list[str]) -> list[str]:
        """List the files inside the new folders that `git status` collapsed."""
        _, out = self._git(root, "ls-files", "-z", "--others", "--exclude-standard")
        return changes.expand_new_dirs(untracked, changes.split_fields(out))

    def _scan_until(self, root: str, since: str | None, until: datetime) -> ScanResult:
        """Scan only the commits committed by `until` and the files they changed."""
        kept = [
            logged
            for logged in self._log(root, since)
            if changes.parse_instant(logged.committed_at) <= until
        ]
        if not kept:
            return _NOTHING

        base = self._base(root, since)
        tip = kept[-1].commit.hash
        _, out = self._git(
            root, "diff-tree", "-r", "-z", "--name-status", "-M", base, tip, "--"
        )
        files = changes.by_path(changes.parse_name_status(out))
        return ScanResult(tuple(logged.commit for logged in kept), files)

    def _base(self, root: str, since: str | None) -> str:
        """Return the revision to compare with: `since`, or the empty tree."""
        if since is not None:
            return _revision(since)
        # Asked rather than hard-coded: SHA-256 repositories have another one.
        _, out = self._git(root, "hash-object", "-t", "tree", "--stdin")
        return _revision(changes.decode(out).strip())

    def ignored(self, root: str, paths: list[str]) -> set[str]:
        """Return which of `paths` (relative to `root`) the repository ignores.

        Git decides, so every source counts (nested .gitignore files,
        info/exclude, core.excludesFile, negations), and so does its rule that
        a tracked file is never ignored. Two whole-repository calls whatever
        the number of paths, which go on stdin, never in argv: `check-ignore`
        alone compares every path with the whole index (7 s of CPU for 30,000
        paths), so patterns are matched without the index, and the matches are
        then checked against the list of tracked files. Nothing is ignored when
        git cannot answer.
        """
        if not paths:
            return set()
        try:
            _, out = self._git(
                root, "check-ignore", "--no-index", "--stdin", "-z",
                ok_codes=(0, 1), stdin=_nul_joined(paths),
            )  # fmt: skip
            matched = set(changes.split_fields(out))
            if not matched:
                return set()
            _, out = self._git(root, "ls-files", "-z", "--cached")
        except GitUnavailableError as exc:
            _log_unknown("ignore rules", root, exc)
            return set()
        holding = {
            part
            for path in changes.split_fields(out)
            for part in _self_and_parents(path)
        }
        return matched - holding

    def _git(
        self,
        cwd: str,
        *args: str,
        ok_codes: tuple[int, ...] = (0,),
        stdin: bytes | None = None,
    ) -> tuple[int, bytes]:
        """Run one git command under this backend's timeout."""
        # subprocess adds ~4 ms to what `cs` already imports; find_root, run
        # on every `cs log-ai`, needs none of it.
        from .runner import run_git

        return run_git(
            cwd, args, timeout_s=self.timeout_s, ok_codes=ok_codes, stdin=stdin
        )


def _kind(path: str) -> str:
    """ "f" for a regular file, "-" for nothing there, "?" for anything else."""
    if os.path.isfile(path) and not os.path.islink(path):
        return "f"
    return "-" if not os.path.lexists(path) else "?"


def _nul_joined(paths: list[str]) -> bytes:
    return b"".join(os.fsencode(path) + b"\0" for path in paths)


def _self_and_parents(path: str) -> list[str]:
    """`a/b/c` -> `a`, `a/b`, `a/b/c`: a folder holding a tracked file is kept."""
    parts = path.split("/")
    return ["/".join(parts[:depth]) for depth in range(1, len(parts) + 1)]


def _revision(name: str) -> str:
    """Return `name` if it is shaped like an object name.

    Raises:
        GitUnavailableError: It is not, so git is not asked about it.
    """
    if not _OBJECT_NAME.fullmatch(name):
        raise GitUnavailableError(f"not an object name: {name!r}")
    return name


def _log_unknown(what: str, where: str, exc: Exception) -> None:
    """Note for developers why an answer degraded to unknown."""
    log.debug("git %s unknown for %s: %s", what, where, exc)
