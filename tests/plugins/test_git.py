"""The git backend against real repositories (B13, B16, B17, B23)."""

import hashlib
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

import cs_git
from cs_core import Commit, FileChange, HeadInfo, RepoInfo, ScanResult, VcsBackend
from cs_git import GitBackend, changes

AUTHOR_DATE = "2026-03-02T10:15:30+01:00"
NOTHING = ScanResult(commits=(), files=())

# No global or system config, fixed identities and dates: repositories come out the
# same on every machine.
GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Committer",
    "GIT_COMMITTER_EMAIL": "committer@example.com",
    "GIT_AUTHOR_DATE": AUTHOR_DATE,
    "GIT_COMMITTER_DATE": AUTHOR_DATE,
}
UNSET_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "GIT_CEILING_DIRECTORIES",
    "GIT_INDEX_FILE",
    "GIT_OPTIONAL_LOCKS",
)


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)
    for name in UNSET_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def backend() -> GitBackend:
    return GitBackend()


@pytest.fixture(params=["walk", "git"])
def discovery(request: pytest.FixtureRequest, monkeypatch, tmp_path) -> str:
    """Find roots by the filesystem walk, or through git as under GIT_DIR & co.

    A ceiling that is no ancestor of the repositories changes nothing for git but
    sends `find_root` down its git path, so both must give the same answer.
    """
    if request.param == "git":
        monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path / "elsewhere"))
    return request.param


def git(cwd: Path, *args: str, **env: str) -> str:
    """Run git as a user would (optional locks on) and return its stdout."""
    result = subprocess.run(
        ["git", "-c", "protocol.file.allow=always", *args],
        cwd=cwd,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    return result.stdout.decode("utf-8", "replace").strip()


def write(root: Path, path: str, text: str) -> None:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def commit(root: Path, message: str, **env: str) -> str:
    """Commit everything in the tree and return the new HEAD."""
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message, **env)
    return git(root, "rev-parse", "HEAD")


def init(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    return path


def blob_id(text: str) -> str:
    """Return the abbreviated object name git gives a file with this content."""
    data = text.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()[:7]


@pytest.fixture
def repo(tmp_path) -> Path:
    """A repository with one commit, `base`, on branch main."""
    root = init(tmp_path / "repo").resolve()
    write(root, "README.md", "hello\n")
    commit(root, "base")
    return root


@pytest.fixture
def worktrees(tmp_path) -> tuple[Path, Path, str]:
    """B13: `app` and its linked worktree `app-feat`, one commit in each."""
    app = init(tmp_path / "b13" / "app").resolve()
    git(app, "commit", "-q", "--allow-empty", "-m", "root")
    start = git(app, "rev-parse", "HEAD")
    git(app, "worktree", "add", "-q", "../app-feat", "-b", "feat")
    feat = app.parent / "app-feat"
    write(feat, "f.txt", "x\n")
    commit(feat, "feat: f")
    write(app, "m.txt", "y\n")
    commit(app, "main: m")
    return app, feat, start


# find_root


@pytest.mark.parametrize("where", ["", "src/deep/er"], ids=["root", "deep-subdir"])
def test_find_root_from_inside(backend, discovery, repo, where):
    (repo / where).mkdir(parents=True, exist_ok=True)

    info = backend.find_root(str(repo / where))

    assert info == RepoInfo(backend="git", root=str(repo), project_root=str(repo))


def test_find_root_resolves_symlinks(backend, discovery, repo, tmp_path):
    (repo / "src").mkdir()
    link = tmp_path / "link"
    link.symlink_to(repo / "src")

    info = backend.find_root(str(link))

    assert info == RepoInfo(backend="git", root=str(repo), project_root=str(repo))


def test_find_root_outside_a_repository_is_none(backend, discovery, tmp_path):
    plain = tmp_path / "plain" / "sub"
    plain.mkdir(parents=True)

    assert backend.find_root(str(plain)) is None


def test_find_root_honours_ceiling_directories(backend, repo, monkeypatch):
    (repo / "sub").mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(repo))

    assert backend.find_root(str(repo / "sub")) is None


@pytest.mark.parametrize("where", ["", "sub/dir"], ids=["top", "subdir"])
def test_find_root_gives_worktrees_one_project(backend, discovery, worktrees, where):
    app, feat, _ = worktrees
    (feat / where).mkdir(parents=True, exist_ok=True)

    info = backend.find_root(str(feat / where))

    assert info == RepoInfo(backend="git", root=str(feat), project_root=str(app))


def test_find_root_of_main_worktree_is_itself(backend, discovery, worktrees):
    app, _, _ = worktrees

    info = backend.find_root(str(app))

    assert info == RepoInfo(backend="git", root=str(app), project_root=str(app))


def test_find_root_in_submodule_is_the_submodule(backend, discovery, tmp_path):
    superproject, _, _ = make_superproject(tmp_path)
    modules = superproject / ".git" / "modules" / "vendor" / "lib"

    info = backend.find_root(str(superproject / "vendor" / "lib"))

    assert info == RepoInfo(
        backend="git",
        root=str(superproject / "vendor" / "lib"),
        project_root=str(modules),
    )


def test_find_root_starts_no_process_and_imports_nothing_heavy(repo):
    code = (
        "import sys, cs_git\n"
        f"info = cs_git.GitBackend().find_root({str(repo)!r})\n"
        "assert info is not None\n"
        "print(sorted({'subprocess', 'git'} & set(sys.modules)))\n"
    )

    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout

    assert out == "[]\n"


# head


def test_head_on_a_branch(backend, repo):
    git(repo, "tag", "main")

    head = backend.head(str(repo))

    assert head == HeadInfo(sha=git(repo, "rev-parse", "HEAD"), branch="main")


def test_head_detached_has_no_branch(backend, repo):
    git(repo, "checkout", "-q", "--detach")

    head = backend.head(str(repo))

    assert head == HeadInfo(sha=git(repo, "rev-parse", "HEAD"), branch=None)


def test_head_unborn_has_no_sha(backend, tmp_path):
    root = init(tmp_path / "b16b")

    assert backend.head(str(root)) == HeadInfo(sha=None, branch="main")


# commits_since and scan


def test_commits_since_stays_in_its_worktree(backend, worktrees):
    app, feat, start = worktrees

    in_feat = backend.commits_since(str(feat), start)
    in_app = backend.commits_since(str(app), start)

    assert [(c.hash, c.message) for c in in_feat] == [
        (git(feat, "rev-parse", "HEAD"), "feat: f")
    ]
    assert [(c.hash, c.message) for c in in_app] == [
        (git(app, "rev-parse", "HEAD"), "main: m")
    ]


@pytest.mark.parametrize(
    ("tree", "message", "path"),
    [("app", "main: m", "m.txt"), ("app-feat", "feat: f", "f.txt")],
    ids=["main", "feature"],
)
def test_scan_stays_in_its_worktree(backend, worktrees, tree, message, path):
    app, _, start = worktrees
    root = app.parent / tree

    scan = backend.scan(str(root), start)

    assert scan == ScanResult(
        commits=(Commit(git(root, "rev-parse", "HEAD"), message, AUTHOR_DATE),),
        files=(FileChange(path, "created"),),
    )


def test_commits_since_none_is_all_history_oldest_first(backend, repo):
    first = git(repo, "rev-parse", "HEAD")
    write(repo, "a.txt", "a\n")
    second = commit(repo, "second")

    commits = backend.commits_since(str(repo), None)

    assert commits == (
        Commit(first, "base", AUTHOR_DATE),
        Commit(second, "second", AUTHOR_DATE),
    )


def test_commits_since_unborn_head_is_empty(backend, tmp_path):
    root = init(tmp_path / "empty")

    assert backend.commits_since(str(root), None) == ()


def test_scan_from_unborn_head_counts_the_first_commit(backend, tmp_path):
    root = init(tmp_path / "b16b")
    write(root, "a.txt", "x\n")
    sha = commit(root, "first")

    scan = backend.scan(str(root), None)

    assert scan == ScanResult(
        commits=(Commit(sha, "first", AUTHOR_DATE),),
        files=(FileChange("a.txt", "created"),),
    )


def test_scan_unborn_head_sees_staged_and_untracked(backend, tmp_path):
    root = init(tmp_path / "fresh")
    write(root, "staged.txt", "s\n")
    git(root, "add", "staged.txt")
    write(root, "loose.txt", "l\n")

    scan = backend.scan(str(root), None)

    assert scan == ScanResult(
        commits=(),
        files=(FileChange("loose.txt", "created"), FileChange("staged.txt", "created")),
    )


def test_scan_in_detached_head_counts_new_commit(backend, repo):
    git(repo, "checkout", "-q", "--detach")
    start = git(repo, "rev-parse", "HEAD")
    write(repo, "d.txt", "d\n")
    sha = commit(repo, "detached work")

    scan = backend.scan(str(repo), start)

    assert scan == ScanResult(
        commits=(Commit(sha, "detached work", AUTHOR_DATE),),
        files=(FileChange("d.txt", "created"),),
    )


def test_scan_nets_every_kind_of_change(backend, repo):
    for name in ("edited.txt", "staged-edit.txt", "gone.txt", "doomed.txt"):
        write(repo, name, f"{name}\n")
    write(repo, "old-name.txt", "".join(f"line {n}\n" for n in range(20)))
    start = commit(repo, "more files")
    write(repo, "committed.txt", "c\n")
    write(repo, "README.md", "hello again\n")
    sha = commit(repo, "work")
    write(repo, "edited.txt", "changed, not staged\n")
    write(repo, "staged-edit.txt", "changed and staged\n")
    write(repo, "staged-new.txt", "new and staged\n")
    git(repo, "add", "staged-edit.txt", "staged-new.txt")
    write(repo, "untracked.txt", "u\n")
    (repo / "gone.txt").unlink()
    git(repo, "rm", "-q", "doomed.txt")
    git(repo, "mv", "old-name.txt", "new-name.txt")

    scan = backend.scan(str(repo), start)

    assert scan == ScanResult(
        commits=(Commit(sha, "work", AUTHOR_DATE),),
        files=(
            FileChange("README.md", "modified"),
            FileChange("committed.txt", "created"),
            FileChange("doomed.txt", "deleted"),
            FileChange("edited.txt", "modified"),
            FileChange("gone.txt", "deleted"),
            FileChange("new-name.txt", "renamed", "old-name.txt"),
            FileChange("staged-edit.txt", "modified"),
            FileChange("staged-new.txt", "created"),
            FileChange("untracked.txt", "created"),
        ),
    )


@pytest.mark.parametrize(
    "make_and_remove",
    ["committed", "staged", "untracked", "renamed-then-deleted"],
)
def test_scan_nets_out_files_created_then_deleted(backend, repo, make_and_remove):
    start = git(repo, "rev-parse", "HEAD")
    write(repo, "tmp.txt", "".join(f"line {n}\n" for n in range(20)))
    if make_and_remove == "committed":
        commit(repo, "add tmp")
    elif make_and_remove in ("staged", "renamed-then-deleted"):
        git(repo, "add", "tmp.txt")
    if make_and_remove == "renamed-then-deleted":
        git(repo, "mv", "tmp.txt", "tmp2.txt")
        (repo / "tmp2.txt").unlink()
    else:
        (repo / "tmp.txt").unlink()

    scan = backend.scan(str(repo), start)

    assert scan.files == ()


def test_scan_skips_ignored_files(backend, repo):
    write(repo, ".gitignore", "*.log\nnode_modules/\n")
    start = commit(repo, "ignore")
    write(repo, "debug.log", "noise\n")
    for n in range(50):
        write(repo, f"node_modules/pkg{n}/index.js", "x\n")

    assert backend.scan(str(repo), start) == NOTHING


def test_scan_lists_files_in_new_folders(backend, repo):
    start = git(repo, "rev-parse", "HEAD")
    write(repo, "src/feature/a.py", "a\n")
    write(repo, "src/feature/deeper/b.py", "b\n")
    write(repo, "top.txt", "t\n")

    scan = backend.scan(str(repo), start)

    assert scan.files == (
        FileChange("src/feature/a.py", "created"),
        FileChange("src/feature/deeper/b.py", "created"),
        FileChange("top.txt", "created"),
    )


def test_scan_keeps_a_huge_new_folder_as_one_entry(backend, repo, monkeypatch):
    monkeypatch.setattr(changes, "MAX_FILES_PER_NEW_DIR", 2)
    start = git(repo, "rev-parse", "HEAD")
    for n in range(3):
        write(repo, f"build/out{n}.o", "o\n")

    scan = backend.scan(str(repo), start)

    assert scan.files == (FileChange("build/", "created"),)


def big_tree(repo: Path, count: int = 300) -> str:
    """Commit `count` files in three folders, then give them all a new mtime."""
    for n in range(count):
        write(repo, f"dir{n % 3}/file{n:04d}.txt", f"{n}\n")
    start = commit(repo, "many files")
    later = time.time() + 100
    for path in repo.glob("dir*/*.txt"):
        os.utime(path, (later, later))
    return start


def test_scan_ignores_touched_but_unchanged_files(backend, repo):
    start = big_tree(repo)
    write(repo, "dir1/file0001.txt", "really changed\n")

    scan = backend.scan(str(repo), start)

    assert scan == ScanResult((), (FileChange("dir1/file0001.txt", "modified"),))


def test_scan_leaves_the_index_byte_identical(backend, repo):
    start = big_tree(repo)
    index = repo / ".git" / "index"
    before = index.read_bytes()

    backend.scan(str(repo), start)
    backend.diff(str(repo), start)

    assert index.read_bytes() == before
    git(repo, "status")  # the fixture is a real test: plain git would rewrite it
    assert index.read_bytes() != before


def test_scan_leaves_a_foreign_index_lock_alone(backend, repo):
    start = big_tree(repo)
    write(repo, "dir0/file0000.txt", "changed\n")
    write(repo, "notes.txt", "new\n")
    lock = repo / ".git" / "index.lock"
    lock.write_bytes(b"someone else's git operation")

    scan = backend.scan(str(repo), start)

    assert scan.files == (
        FileChange("dir0/file0000.txt", "modified"),
        FileChange("notes.txt", "created"),
    )
    assert lock.read_bytes() == b"someone else's git operation"


def make_superproject(tmp_path: Path) -> tuple[Path, str, str]:
    """A repository with `vendor/lib` pinned to the first of two library commits."""
    lib = init(tmp_path / "lib")
    write(lib, "lib.c", "one\n")
    first = commit(lib, "lib one")
    write(lib, "lib.c", "two\n")
    second = commit(lib, "lib two")
    superproject = init(tmp_path / "super").resolve()
    write(superproject, "main.c", "main\n")
    git(superproject, "submodule", "add", "-q", str(lib), "vendor/lib")
    git(superproject / "vendor" / "lib", "checkout", "-q", first)
    commit(superproject, "add lib")
    return superproject, first, second


@pytest.mark.parametrize("committed", [False, True], ids=["uncommitted", "committed"])
def test_scan_counts_a_submodule_bump_as_one_path(backend, tmp_path, committed):
    superproject, _, second = make_superproject(tmp_path)
    start = git(superproject, "rev-parse", "HEAD")
    lib = superproject / "vendor" / "lib"
    git(lib, "checkout", "-q", second)
    write(lib, "junk.txt", "untracked inside the submodule\n")
    write(lib, "lib.c", "dirty inside the submodule\n")
    if committed:
        git(superproject, "commit", "-q", "-am", "bump lib")

    scan = backend.scan(str(superproject), start)

    assert scan.files == (FileChange("vendor/lib", "modified"),)
    assert [c.message for c in scan.commits] == (["bump lib"] if committed else [])


def commit_raw_message(root: Path, message: bytes) -> str:
    """Commit the index with `message` stored byte for byte, as old tools did.

    `git commit` would turn a non-UTF-8 message into UTF-8 (taking it as Latin-1),
    so the commit object is written directly.
    """
    git(root, "add", "-A")
    seconds = int(datetime.fromisoformat(AUTHOR_DATE).timestamp())
    ident = b"Test Author <author@example.com> %d +0100" % seconds
    tree, parent = git(root, "write-tree"), git(root, "rev-parse", "HEAD")
    body = b"tree %s\nparent %s\nauthor %s\ncommitter %s\n\n%s\n" % (
        tree.encode(),
        parent.encode(),
        ident,
        ident,
        message,
    )
    sha = (
        subprocess.run(
            ["git", "hash-object", "-t", "commit", "-w", "--stdin"],
            cwd=root,
            input=body,
            check=True,
            capture_output=True,
        )
        .stdout.decode()
        .strip()
    )
    git(root, "update-ref", "HEAD", sha)
    return sha


def commit_latin1_message(root: Path, message: bytes) -> str:
    """Commit as the B17 scenario does, through `git commit -F`."""
    git(root, "add", "-A")
    (root.parent / "msg").write_bytes(message + b"\n")
    git(root, "-c", "i18n.commitEncoding=UTF-8", "commit", "-q", "-F", "../msg")
    return git(root, "rev-parse", "HEAD")


@pytest.mark.parametrize("locale", ["C", "C.UTF-8"])
@pytest.mark.parametrize(
    ("make_commit", "subject"),
    [(commit_raw_message, "caf\ufffd msg"), (commit_latin1_message, "caf\xe9 msg")],
    ids=["raw-bytes", "git-commit"],
)
def test_scan_decodes_non_utf8_names_and_subjects(
    backend, tmp_path, monkeypatch, locale, make_commit, subject
):
    monkeypatch.setenv("LC_ALL", locale)
    root = init(tmp_path / "b17")
    write(root, "good.txt", "1\n")
    start = commit(root, "init")
    (root / os.fsdecode(b"bad\xff.txt")).write_text("x")
    write(root, "good.txt", "1\n2\n")
    sha = make_commit(root, b"caf\xe9 msg")

    scan = backend.scan(str(root), start)

    assert scan == ScanResult(
        commits=(Commit(sha, subject, AUTHOR_DATE),),
        files=(
            FileChange("bad\ufffd.txt", "created"),
            FileChange("good.txt", "modified"),
        ),
    )


def test_scan_until_ignores_later_commits_and_the_tree(backend, repo):
    start = git(repo, "rev-parse", "HEAD")
    write(repo, "early.txt", "e\n")
    early = commit(repo, "early", GIT_COMMITTER_DATE="2025-06-01T09:10:00Z")
    write(repo, "late.txt", "l\n")
    commit(repo, "late", GIT_COMMITTER_DATE="2025-06-04T09:00:00Z")
    write(repo, "loose.txt", "not committed\n")

    scan = backend.scan(str(repo), start, until="2025-06-01T09:10:00.000Z")

    assert scan == ScanResult(
        commits=(Commit(early, "early", AUTHOR_DATE),),
        files=(FileChange("early.txt", "created"),),
    )


def test_scan_until_before_any_commit_is_empty(backend, repo):
    start = git(repo, "rev-parse", "HEAD")
    write(repo, "late.txt", "l\n")
    commit(repo, "late", GIT_COMMITTER_DATE="2025-06-04T09:00:00Z")

    assert backend.scan(str(repo), start, until="2025-06-01T09:10:00Z") == NOTHING


# diff


def test_diff_of_one_commit(backend, repo):
    sha = commit_edit(repo)

    before, after = blob_id("hello\n"), blob_id("hello\nworld\n")

    text = backend.diff(str(repo), None, commit=sha)

    assert text == (
        "diff --git a/README.md b/README.md\n"
        f"index {before}..{after} 100644\n"
        "--- a/README.md\n"
        "+++ b/README.md\n"
        "@@ -1 +1,2 @@\n"
        " hello\n"
        "+world\n"
    )


def commit_edit(repo: Path) -> str:
    write(repo, "README.md", "hello\nworld\n")
    return commit(repo, "edit")


def test_diff_of_the_tree_covers_tracked_files_only(backend, repo):
    start = git(repo, "rev-parse", "HEAD")
    write(repo, "README.md", "bye\n")
    write(repo, "untracked.txt", "u\n")

    before, after = blob_id("hello\n"), blob_id("bye\n")

    text = backend.diff(str(repo), start)

    assert text == (
        "diff --git a/README.md b/README.md\n"
        f"index {before}..{after} 100644\n"
        "--- a/README.md\n"
        "+++ b/README.md\n"
        "@@ -1 +1 @@\n"
        "-hello\n"
        "+bye\n"
    )


# degrading to unknown


def test_without_git_on_path_everything_is_unknown(
    backend, repo, tmp_path, monkeypatch
):
    start = git(repo, "rev-parse", "HEAD")
    empty = tmp_path / "no-git"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))

    assert backend.find_root(str(repo)) == RepoInfo("git", str(repo), str(repo))
    assert backend.head(str(repo)) == HeadInfo(sha=None, branch=None)
    assert backend.commits_since(str(repo), start) == ()
    assert backend.scan(str(repo), start) is None
    assert backend.diff(str(repo), start) == ""
    monkeypatch.setenv("GIT_DIR", str(repo / ".git"))
    assert backend.find_root(str(repo)) is None


def test_a_hanging_git_is_killed_and_unknown(repo, tmp_path, monkeypatch):
    fake = tmp_path / "slow-bin"
    fake.mkdir()
    (fake / "git").write_text(f"#!/bin/sh\nexec {shutil.which('sleep')} 30\n")
    (fake / "git").chmod(0o755)
    monkeypatch.setenv("PATH", str(fake))
    backend = GitBackend(timeout_s=0.3)

    started = time.monotonic()
    head = backend.head(str(repo))

    assert head == HeadInfo(sha=None, branch=None)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    "since", ["--output=stolen.txt", "HEAD~1", "not hex"], ids=["option", "ref", "text"]
)
def test_a_malformed_revision_never_reaches_git(backend, repo, since):
    assert backend.scan(str(repo), since) is None
    assert backend.diff(str(repo), None, commit=since) == ""
    assert not (repo / "stolen.txt").exists()


def test_a_missing_root_is_unknown(backend, tmp_path):
    gone = str(tmp_path / "gone")

    assert backend.head(gone) == HeadInfo(sha=None, branch=None)
    assert backend.scan(gone, None) is None


# the hook


def test_hook_register_vcs_backends():
    registered = []

    cs_git.register_vcs_backends(register=registered.append)

    assert [type(b) for b in registered] == [GitBackend]
    assert registered[0].name == "git"
    assert isinstance(registered[0], VcsBackend)


def test_snapshot_fingerprints_every_uncommitted_path(backend, repo):
    (repo / "tracked.txt").write_text("tracked\n")
    git(repo, "add", "tracked.txt")
    git(repo, "commit", "-q", "-m", "tracked")
    (repo / "tracked.txt").write_text("edited\n")
    (repo / "untracked dir").mkdir()
    (repo / "untracked dir" / "ü.txt").write_text("new\n")

    taken = backend.snapshot(str(repo))

    assert taken == {
        "tracked.txt": git(repo, "hash-object", "tracked.txt").strip(),
        "untracked dir/ü.txt": git(repo, "hash-object", "untracked dir/ü.txt").strip(),
    }
    (repo / "tracked.txt").unlink()
    assert backend.snapshot(str(repo))["tracked.txt"] == "-"
