"""The one error the git plugin raises, and catches, internally."""


class GitUnavailableError(Exception):
    """git gave no usable answer: missing, too slow, or exited with an error.

    It never leaves the plugin: the backend turns it into an "unknown" result.
    """
