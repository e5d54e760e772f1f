"""File events to net changes: the folding rules, the tracker on a real tree, and
ignore rules answered by a real git repository."""

import os
from pathlib import Path

import pytest

from cs_core.watch import (
    CREATED,
    DELETED,
    MODIFIED,
    RENAMED,
    Event,
    IgnoreRules,
    NetChange,
    Tracker,
    apply_event,
    checker_for,
)
from cs_git.backend import GitBackend
from tests.conftest import commit_file, git


def git_check_ignore(root: str, paths: list[str]) -> set[str]:
    """The bundled git backend's ignore query, as the live watcher calls it."""
    return GitBackend().ignored(root, paths)


AT = "2026-03-02T10:00:00.000Z"


def fold(*events: Event) -> dict[str, tuple[str, str | None]]:
    rows: dict[str, NetChange] = {}
    for event in events:
        apply_event(rows, event, AT)
    return {path: (row.change_type, row.old_path) for path, row in rows.items()}


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([Event(CREATED, "a")], {"a": (CREATED, None)}),
        ([Event(CREATED, "a"), Event(MODIFIED, "a")], {"a": (CREATED, None)}),
        ([Event(CREATED, "a"), Event(DELETED, "a")], {}),
        ([Event(MODIFIED, "a"), Event(MODIFIED, "a")], {"a": (MODIFIED, None)}),
        ([Event(MODIFIED, "a"), Event(DELETED, "a")], {"a": (DELETED, None)}),
        ([Event(DELETED, "a"), Event(CREATED, "a")], {"a": (MODIFIED, None)}),
        ([Event(RENAMED, "b", "a")], {"b": (RENAMED, "a")}),
        ([Event(MODIFIED, "a"), Event(RENAMED, "b", "a")], {"b": (RENAMED, "a")}),
        ([Event(CREATED, "a"), Event(RENAMED, "b", "a")], {"b": (CREATED, None)}),
        (
            [Event(RENAMED, "b", "a"), Event(RENAMED, "c", "b")],
            {"c": (RENAMED, "a")},
        ),
        ([Event(RENAMED, "b", "a"), Event(RENAMED, "a", "b")], {"a": (MODIFIED, None)}),
        ([Event(RENAMED, "b", "a"), Event(DELETED, "b")], {"a": (DELETED, None)}),
        (
            [Event(RENAMED, "b", "a"), Event(CREATED, "a")],
            {"a": (MODIFIED, None), "b": (CREATED, None)},
        ),
        (
            [Event(DELETED, "b"), Event(RENAMED, "b", "a")],
            {"a": (DELETED, None), "b": (MODIFIED, None)},
        ),
    ],
    ids=[
        "created",
        "created-then-modified-stays-created",
        "created-then-deleted-leaves-nothing",
        "modified-twice-is-one-row",
        "modified-then-deleted-is-deleted",
        "deleted-then-recreated-is-modified",
        "renamed",
        "modified-then-renamed-is-renamed",
        "created-then-renamed-is-created-at-new-path",
        "renamed-twice-keeps-first-path",
        "renamed-back-is-modified",
        "renamed-then-deleted-deletes-the-original",
        "origin-reoccupied-after-rename",
        "moved-over-a-deleted-original",
    ],
)
def test_events_fold_into_one_net_change_per_path(
    events: list[Event], expected: dict[str, tuple[str, str | None]]
) -> None:
    assert fold(*events) == expected


def test_fold_keeps_the_latest_timestamp() -> None:
    rows: dict[str, NetChange] = {}

    apply_event(rows, Event(CREATED, "a"), "2026-03-02T10:00:00.000Z")
    apply_event(rows, Event(MODIFIED, "a"), "2026-03-02T10:05:00.000Z")

    assert rows == {"a": NetChange(CREATED, None, "2026-03-02T10:05:00.000Z")}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    (root / "src").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref\n", encoding="utf-8")
    for name in ("a.txt", "b c.txt", "src/m.py", "src/n.py"):
        (root / name).write_text("start\n", encoding="utf-8")
        # Written long ago, as a tree's files usually are: no mtime collides
        # with that of a file the test writes now.
        os.utime(root / name, ns=(10**18, 10**18))
    return root.resolve()


def tracked_tree(root: Path) -> Tracker:
    tracker = Tracker(str(root), IgnoreRules(str(root), None))
    tracker.scan_baseline()
    return tracker


def touched(root: Path, *names: str) -> list[str]:
    return [str(root / name) for name in names]


def test_baseline_lists_files_but_not_vcs_folders(tree: Path) -> None:
    tracker = tracked_tree(tree)

    assert sorted(tracker.known) == ["a.txt", "b c.txt", "src/m.py", "src/n.py"]


def test_batch_reports_created_modified_deleted_and_renamed(tree: Path) -> None:
    tracker = tracked_tree(tree)
    (tree / "new é.txt").write_text("new\n", encoding="utf-8")
    (tree / "a.txt").write_text("changed\n", encoding="utf-8")
    (tree / "src" / "n.py").unlink()
    (tree / "b c.txt").rename(tree / "b d.txt")

    events = tracker.batch(
        touched(tree, "new é.txt", "a.txt", "src/n.py", "b c.txt", "b d.txt")
    )

    assert events == [
        Event(RENAMED, "b d.txt", "b c.txt"),
        Event(CREATED, "new é.txt"),
        Event(DELETED, "src/n.py"),
        Event(MODIFIED, "a.txt"),
    ]


def test_editor_save_by_rename_is_one_modification(tree: Path) -> None:
    tracker = tracked_tree(tree)
    (tree / "a.txt~").write_text("start\n", encoding="utf-8")
    (tree / ".a.txt.swp").write_text("saved\n", encoding="utf-8")
    os.replace(tree / ".a.txt.swp", tree / "a.txt")
    (tree / "a.txt~").unlink()

    events = tracker.batch(touched(tree, "a.txt~", ".a.txt.swp", "a.txt"))

    assert events == [Event(MODIFIED, "a.txt")]


def test_file_created_and_removed_in_one_batch_is_nothing(tree: Path) -> None:
    tracker = tracked_tree(tree)
    (tree / "tmp").write_text("x", encoding="utf-8")
    (tree / "tmp").unlink()

    assert tracker.batch(touched(tree, "tmp")) == []


def test_renamed_folder_renames_its_files(tree: Path) -> None:
    tracker = tracked_tree(tree)
    (tree / "src").rename(tree / "lib")

    events = tracker.batch(touched(tree, "src", "lib"))

    assert events == [
        Event(RENAMED, "lib/m.py", "src/m.py"),
        Event(RENAMED, "lib/n.py", "src/n.py"),
    ]


def test_folder_moved_in_creates_its_files(tree: Path, tmp_path: Path) -> None:
    tracker = tracked_tree(tree)
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "x.txt").write_text("x\n", encoding="utf-8")
    outside.rename(tree / "vendor")

    events = tracker.batch(touched(tree, "vendor"))

    assert events == [Event(CREATED, "vendor/deep/x.txt")]


def test_resync_finds_what_happened_without_events(tree: Path) -> None:
    tracker = tracked_tree(tree)
    (tree / "a.txt").write_text("changed in place\n", encoding="utf-8")
    (tree / "b c.txt").rename(tree / "b d.txt")
    (tree / "src" / "m.py").unlink()
    (tree / "new.txt").write_text("x\n", encoding="utf-8")
    (tree / ".n.py.swp").write_text("saved\n", encoding="utf-8")
    os.replace(tree / ".n.py.swp", tree / "src" / "n.py")

    events = tracker.resync()

    assert events == [
        Event(RENAMED, "b d.txt", "b c.txt"),
        Event(CREATED, "new.txt"),
        Event(DELETED, "src/m.py"),
        Event(MODIFIED, "a.txt"),
        Event(MODIFIED, "src/n.py"),
    ]
    assert tracker.resync() == []


def test_names_that_are_not_utf8_are_left_to_the_scan(tree: Path) -> None:
    (tree / os.fsdecode(b"bad\xff.txt")).write_bytes(b"x")

    tracker = tracked_tree(tree)

    assert sorted(tracker.known) == ["a.txt", "b c.txt", "src/m.py", "src/n.py"]


def test_touched_folder_does_not_modify_its_files(tree: Path) -> None:
    tracker = tracked_tree(tree)
    os.utime(tree / "src")

    assert tracker.batch(touched(tree, "src")) == []


def test_changes_inside_vcs_folders_and_outside_the_root_are_not_tracked(
    tree: Path, tmp_path: Path
) -> None:
    tracker = tracked_tree(tree)
    (tree / ".git" / "index").write_text("x", encoding="utf-8")
    (tmp_path / "elsewhere.txt").write_text("x", encoding="utf-8")

    events = tracker.batch(
        [str(tree / ".git" / "index"), str(tmp_path / "elsewhere.txt"), str(tree)]
    )

    assert events == []


@pytest.fixture
def ignoring_repo(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A repository whose ignore rules come from every source git reads."""
    commit_file(git_repo, "tracked.log", "tracked despite the pattern\n", "tracked")
    config = tmp_path / "xdg"
    (config / "git").mkdir(parents=True)
    (config / "git" / "ignore").write_text("*.global\n", encoding="utf-8")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    (git_repo / ".git" / "info").mkdir(exist_ok=True)
    (git_repo / ".git" / "info" / "exclude").write_text("*.local\n", encoding="utf-8")
    (git_repo / ".gitignore").write_text(
        "*.log\n!keep.log\nnode_modules/\n", encoding="utf-8"
    )
    (git_repo / "sub").mkdir()
    (git_repo / "sub" / ".gitignore").write_text("*.tmp\n", encoding="utf-8")
    git(git_repo, "add", ".gitignore", "sub/.gitignore")
    git(git_repo, "commit", "-q", "-m", "ignore rules")
    return git_repo


def test_git_check_ignore_reads_every_ignore_source(ignoring_repo: Path) -> None:
    paths = [
        "a.log", "keep.log", "tracked.log", "x.global", "x.local", "sub/x.tmp",
        "x.tmp", "node_modules/pkg/index.js", "gone/deleted.log", "name with space.log",
        "ü.txt",
    ]  # fmt: skip

    ignored = git_check_ignore(str(ignoring_repo), paths)

    assert ignored == {
        "a.log", "x.global", "x.local", "sub/x.tmp", "node_modules/pkg/index.js",
        "gone/deleted.log", "name with space.log",
    }  # fmt: skip


def test_git_check_ignore_outside_a_repository_ignores_nothing(tmp_path: Path) -> None:
    assert git_check_ignore(str(tmp_path), ["a.log"]) == set()


def test_baseline_prunes_ignored_folders(ignoring_repo: Path) -> None:
    modules = ignoring_repo / "node_modules" / "pkg"
    modules.mkdir(parents=True)
    (modules / "index.js").write_text("x\n", encoding="utf-8")
    (ignoring_repo / "debug.log").write_text("x\n", encoding="utf-8")
    root = str(ignoring_repo)
    rules = IgnoreRules(root, git_check_ignore)
    tracker = Tracker(root, rules)

    tracker.scan_baseline()

    assert sorted(tracker.known) == [
        ".gitignore", "README.md", "sub/.gitignore", "tracked.log",
    ]  # fmt: skip
    assert rules.ignored_dirs == {"node_modules"}
    assert rules.filter(["node_modules/pkg/new.js", "debug.log", "src/a.py"]) == {
        "src/a.py"
    }


class _Named:
    def __init__(self, name: str) -> None:
        self.name = name


class _Answers(_Named):
    def ignored(self, root: str, paths: list[str]) -> set[str]:
        return {p for p in paths if p.startswith("skip")}


@pytest.mark.parametrize(
    "backend",
    [None, _Named("hg"), _Named("git")],
    ids=["no-backend", "backend-without-ignore-query", "git-without-ignore-query"],
)
def test_without_an_ignore_query_nothing_is_ignored(backend: object) -> None:
    assert checker_for(backend) is None


def test_git_backend_answers_ignore_queries(ignoring_repo: Path) -> None:
    checker = checker_for(GitBackend())

    assert checker is not None
    assert checker(str(ignoring_repo), ["a.log", "keep.log"]) == {"a.log"}


def test_checker_for_prefers_the_backends_own_query() -> None:
    checker = checker_for(_Answers("git"))

    assert checker is not None
    assert checker("/r", ["skip.me", "keep.me"]) == {"skip.me"}


def test_a_folder_holding_a_tracked_file_is_not_pruned(ignoring_repo: Path) -> None:
    kept = ignoring_repo / "node_modules" / "patched"
    kept.mkdir(parents=True)
    (kept / "fix [1]*.js").write_text("x\n", encoding="utf-8")
    (kept / "other.js").write_text("x\n", encoding="utf-8")
    git(ignoring_repo, "add", "-f", "node_modules/patched/fix [1]*.js")
    git(ignoring_repo, "commit", "-q", "-m", "vendored patch")
    root = str(ignoring_repo)
    rules = IgnoreRules(root, git_check_ignore)

    Tracker(root, rules).scan_baseline()
    kept_paths = rules.filter(
        ["node_modules/patched/fix [1]*.js", "node_modules/patched/other.js"]
    )

    assert rules.ignored_dirs == set()
    assert kept_paths == {"node_modules/patched/fix [1]*.js"}
