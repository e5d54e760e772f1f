"""Find the git working tree around a path by reading the filesystem only.

`find_root` runs on every `cs log-ai`, so this module starts no process and
imports nothing heavy: it walks up from the path as git's own discovery does
and reads the few small files that say where the repository lives.
"""

import os
from collections.abc import Iterator

# When these are set, git's discovery no longer follows the directory tree,
# and only git itself can say where the working tree is.
STEERING_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "GIT_CEILING_DIRECTORIES",
)

_GITFILE_PREFIX = "gitdir:"
# A `.git` file holds one short line; a bigger one is not a gitfile.
_GITFILE_MAX_BYTES = 4096


def env_steers_discovery() -> bool:
    """Return whether the environment changes where git looks for a repo."""
    return any(os.environ.get(name) for name in STEERING_ENV)


def find_worktree(path: str) -> tuple[str, str] | None:
    """Return the working tree around `path` and its git directory, or None.

    Args:
        path: A file or directory; symlinks are resolved first.

    Returns:
        The real path of the working tree's top level, and its git directory.
    """
    start = os.path.realpath(path)
    if not os.path.isdir(start):
        start = os.path.dirname(start)
    for directory in _ancestors(start):
        gitdir = _gitdir_at(directory)
        if gitdir is not None:
            return directory, gitdir
    return None


def common_dir_of(gitdir: str) -> str:
    """Return the git directory that all worktrees of a repository share.

    A linked worktree's git directory (`.git/worktrees/NAME`) names the shared
    one in its `commondir` file; any other git directory is its own.
    """
    text = _read_text(os.path.join(gitdir, "commondir"))
    if not text:
        return gitdir
    return os.path.realpath(os.path.join(gitdir, text))


def project_root_of(common_dir: str) -> str:
    """Return the identity of the repository behind a shared git directory.

    A `.git` directory stands for the folder that holds it, so every worktree
    of `app` is project `app` (B13). A shared directory with another name (a
    bare repository, a submodule's `.git/modules/NAME`) is itself the
    identity: git offers no other name that all its worktrees agree on.
    """
    if os.path.basename(common_dir) == ".git":
        return os.path.dirname(common_dir)
    return common_dir


def _ancestors(directory: str) -> Iterator[str]:
    """Yield `directory` and each of its parents up to the filesystem root."""
    while True:
        yield directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return
        directory = parent


def _gitdir_at(directory: str) -> str | None:
    """Return the git directory that `directory/.git` leads to, if valid.

    `.git` is a directory in a plain clone and a `gitdir: PATH` file in linked
    worktrees and submodules. Like git, skip a `.git` that leads nowhere.
    """
    dotgit = os.path.join(directory, ".git")
    if os.path.isdir(dotgit):
        gitdir = dotgit
    else:
        text = _read_text(dotgit)
        if text is None or not text.startswith(_GITFILE_PREFIX):
            return None
        target = text[len(_GITFILE_PREFIX) :].strip()
        gitdir = os.path.realpath(os.path.join(directory, target))

    if not os.path.isfile(os.path.join(gitdir, "HEAD")):
        return None
    return gitdir


def _read_text(path: str) -> str | None:
    """Return the stripped text of a small file, or None if unreadable."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(_GITFILE_MAX_BYTES)
    except OSError:
        return None
    return os.fsdecode(data).strip()
