"""Cleaning text that crosses a system boundary before it is stored.

Python turns undecodable bytes in argv into lone surrogates, which SQLite refuses;
they become U+FFFD here, as do NUL characters.
"""


def clean(text: str) -> str:
    """Return `text` as valid UTF-8: lone surrogates and NULs become U+FFFD."""
    fixed = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return fixed.replace("\x00", "\ufffd")


def clean_optional(text: str | None) -> str | None:
    """`clean` for a value that may be absent."""
    return None if text is None else clean(text)
