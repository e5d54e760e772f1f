"""Run one git command with a deadline, leaving the repository as it was.

Plain `subprocess`, not GitPython's `git.cmd.Git.execute`, for three reasons
(measured with GitPython 3.2.1):

- its `kill_after_timeout` raises on Windows, so there every call would fail
  instead of being bounded;
- importing it costs ~65 ms and runs `git version` once per process;
- when the working directory is missing it quietly runs git in the caller's
  directory, which could scan the wrong repository.
"""

import contextlib
import os
import signal
import subprocess
from collections.abc import Collection, Sequence

from .errors import GitUnavailableError

# B23: read-only commands such as `git status` still refresh and rewrite
# `.git/index`, or trip over someone else's `index.lock`, unless optional
# locks are off.
_ENV_OVERRIDES = {"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"}

_POSIX = os.name == "posix"


def run_git(
    cwd: str,
    args: Sequence[str],
    *,
    timeout_s: float,
    ok_codes: Collection[int] = (0,),
) -> tuple[int, bytes]:
    """Run `git ARGS` in `cwd` and return its exit code and raw stdout.

    Args:
        cwd: The directory to run in; it must exist.
        args: The arguments after `git`.
        timeout_s: Seconds before git, and anything it started, is killed.
        ok_codes: Exit codes that are answers rather than failures.

    Returns:
        The exit code and stdout as bytes, undecoded.

    Raises:
        GitUnavailableError: git is missing, timed out or exited otherwise.
    """
    if not os.path.isdir(cwd):
        raise GitUnavailableError(f"no such directory: {cwd!r}")
    try:
        proc = subprocess.Popen(
            ["git", *args],
            cwd=cwd,
            env={**os.environ, **_ENV_OVERRIDES},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            # Its own process group, so a timeout can kill git's children too.
            start_new_session=_POSIX,
        )
    except OSError as exc:
        raise GitUnavailableError(f"cannot run git: {exc}") from exc

    stdout, stderr = _wait(proc, args, timeout_s)
    if proc.returncode not in ok_codes:
        message = stderr.decode("utf-8", "replace").strip()
        raise GitUnavailableError(f"git {args[0]} exited {proc.returncode}: {message}")
    return proc.returncode, stdout


def _wait(
    proc: subprocess.Popen[bytes], args: Sequence[str], timeout_s: float
) -> tuple[bytes, bytes]:
    """Collect git's output; kill it past the deadline or when interrupted."""
    try:
        return proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill(proc)
        proc.communicate()
        raise GitUnavailableError(
            f"git {args[0]} did not finish in {timeout_s:g} s"
        ) from None
    except BaseException:
        # Ctrl+C must not leave git running in its own process group.
        _kill(proc)
        proc.communicate()
        raise


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill git and its process group; it may have exited meanwhile."""
    with contextlib.suppress(OSError):
        if _POSIX:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
