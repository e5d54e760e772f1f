"""Run one git command with a deadline, leaving the repository as it was.

Commands run through GitPython's `git.cmd.Git`, which starts the native `git`
(so the flags B23 asks for apply) and kills it past the deadline. GitPython is
imported only here and only when a command runs: importing it costs about 65 ms
and runs `git version` once, which `find_root` on the hot path must never pay.
"""

import contextlib
import os
from collections.abc import Collection, Sequence
from typing import Any

from .errors import GitUnavailableError

# B23: read-only commands such as `git status` still refresh and rewrite
# `.git/index`, or trip over someone else's `index.lock`, unless optional
# locks are off.
_ENV_OVERRIDES = {"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"}


def _gitpython() -> Any:
    # Without git on PATH, importing GitPython raises unless told to stay quiet;
    # a missing git then surfaces per command, where it degrades to "unknown".
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    import git.cmd  # ~65 ms

    return git.cmd


def run_git(
    cwd: str,
    args: Sequence[str],
    *,
    timeout_s: float,
    ok_codes: Collection[int] = (0,),
    stdin: bytes | None = None,
) -> tuple[int, bytes]:
    """Run `git ARGS` in `cwd` and return its exit code and raw stdout.

    Args:
        cwd: The directory to run in; it must exist.
        args: The arguments after `git`.
        timeout_s: Seconds before git is killed.
        ok_codes: Exit codes that are answers rather than failures.
        stdin: Bytes for git's standard input (paths go there, never in argv).

    Returns:
        The exit code and stdout as bytes, undecoded.

    Raises:
        GitUnavailableError: git is missing, timed out or exited otherwise.
    """
    # GitPython would quietly run in the current directory instead.
    if not os.path.isdir(cwd):
        raise GitUnavailableError(f"no such directory: {cwd!r}")
    cmd = _gitpython()
    try:
        with _input_file(stdin) as istream:
            status, stdout, stderr = cmd.Git(cwd).execute(
                ["git", *args],
                istream=istream,
                with_extended_output=True,
                with_exceptions=False,
                stdout_as_string=False,
                strip_newline_in_stdout=False,
                kill_after_timeout=timeout_s,
                env=_ENV_OVERRIDES,
            )
    except (OSError, cmd.GitCommandNotFound) as exc:
        raise GitUnavailableError(f"cannot run git: {exc}") from exc
    if status not in ok_codes:
        message = (
            stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
        )
        raise GitUnavailableError(f"git {args[0]} exited {status}: {message.strip()}")
    return status, stdout


def _input_file(data: bytes | None) -> Any:
    """Return a real file holding `data`, or nothing, to use in a `with`.

    GitPython hands git its `istream` as stdin, so it must be a real file.
    """
    if data is None:
        return contextlib.nullcontext()
    import tempfile

    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the caller's with
    spool.write(data)
    spool.seek(0)
    return spool
