"""JSON export: a bare, indented array, written one element at a time."""

import json
from collections.abc import Callable, Iterable, Mapping
from typing import IO, Any

from cs_core import ExportOptions, hookimpl


class JsonFormat:
    """Writes sessions or calls as one JSON array, as codesession-cli did."""

    name = "json"
    description = "A JSON array of session (or call) objects, indented."

    def write(
        self,
        rows: Iterable[Mapping[str, Any]],
        stream: IO[str],
        *,
        options: ExportOptions,
    ) -> int:
        """Stream `rows` into `stream` as an indented JSON array.

        Args:
            rows: Session or call documents.
            stream: A text stream.
            options: Unused: JSON is the same for every kind.

        Returns:
            The number of elements written.
        """
        count = 0
        for row in rows:
            element = json.dumps(row, indent=2, ensure_ascii=False)
            stream.write(("[\n" if count == 0 else ",\n") + _indent(element))
            count += 1
        stream.write("\n]\n" if count else "[]\n")
        return count


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


@hookimpl
def register_output_formats(register: Callable[[Any], None]) -> None:
    """Register the JSON export format."""
    register(JsonFormat())
