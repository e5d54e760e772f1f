"""git support: session scope by working tree, and what a session changed.

`find_root` reads the filesystem only; everything else runs native git
read-only, with optional locks off and a timeout, and answers "unknown"
when git cannot.
"""

from collections.abc import Callable
from typing import Any

from cs_core import hookimpl

from .backend import GitBackend

__all__ = ["GitBackend", "register_vcs_backends"]


@hookimpl
def register_vcs_backends(register: Callable[[Any], None]) -> None:
    """Register the git backend."""
    register(GitBackend())
