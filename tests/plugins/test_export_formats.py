"""The bundled JSON and CSV export formats."""

import csv
import io
import json

import pytest

import cs_csv
import cs_json
from cs_core import ExportOptions

SESSION = {
    "id": 3, "name": "=HYPERLINK(\"x\")", "status": "completed",
    "startTime": "2026-01-01T00:00:00.000Z", "endTime": "2026-01-01T01:00:00.000Z",
    "duration": 3600, "filesChanged": 2, "commits": [{"hash": "abc"}], "aiTokens": 10,
    "aiCost": 5000.012875, "agents": ["a", "b"], "notes": "-1 day",
    "endReason": "ended",
    "gitRoot": "/r", "projectRoot": "/r", "branch": "main", "aiUsage": [{}, {}],
    "unpricedCalls": 0, "unpricedTokens": 0,
}  # fmt: skip


def write(fmt, rows, **options) -> str:
    stream = io.StringIO(newline="")
    fmt.write(iter(rows), stream, options=ExportOptions(**options))
    return stream.getvalue()


def test_hook_register_output_formats() -> None:
    registered = []

    cs_json.register_output_formats(register=registered.append)
    cs_csv.register_output_formats(register=registered.append)

    assert [fmt.name for fmt in registered] == ["json", "csv"]


def test_json_is_a_bare_indented_array() -> None:
    text = write(cs_json.JsonFormat(), [{"id": 1}, {"id": 2}])

    assert text == '[\n  {\n    "id": 1\n  },\n  {\n    "id": 2\n  }\n]\n'
    assert json.loads(text) == [{"id": 1}, {"id": 2}]


def test_json_of_nothing_is_an_empty_array() -> None:
    assert write(cs_json.JsonFormat(), []) == "[]\n"


def test_csv_session_row() -> None:
    text = write(cs_csv.CsvFormat(), [SESSION])

    header, row = list(csv.reader(io.StringIO(text)))
    assert header[:12] == [
        "id", "name", "status", "startTime", "endTime", "duration", "filesChanged",
        "commits", "aiTokens", "aiCost", "agents", "notes",
    ]  # fmt: skip
    assert row[:12] == [
        "3", "'=HYPERLINK(\"x\")", "completed", "2026-01-01T00:00:00.000Z",
        "2026-01-01T01:00:00.000Z", "3600", "2", "1", "10", "5000.012875", "a; b",
        "'-1 day",
    ]  # fmt: skip


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"], ids=repr)
def test_csv_neutralises_formula_cells(start: str) -> None:
    assert cs_csv.cell("name", f"{start}cmd") == f"'{start}cmd"


def test_csv_counts_nothing_as_zero() -> None:
    assert cs_csv.cell("commits", []) == "0"
    assert cs_csv.cell("aiUsage", []) == "0"
    assert cs_csv.cell("agents", []) == ""


def test_csv_unknown_cost_is_an_empty_cell() -> None:
    assert cs_csv.cell("cost", None) == ""
    assert cs_csv.cell("cost", 0.0) == "0.0"
    assert cs_csv.cell("cost", 1.75e-05) == "0.0000175"


def test_csv_excel_adds_bom_and_crlf() -> None:
    text = write(cs_csv.CsvFormat(), [SESSION], excel=True)

    assert text.startswith("\ufeffid,name,")
    assert text.count("\r\n") == 2


def test_csv_quotes_per_rfc_4180() -> None:
    text = write(cs_csv.CsvFormat(), [{**SESSION, "name": 'say "hi", then\nleave'}])

    assert '"say ""hi"", then\nleave"' in text


def test_export_to_a_file_is_atomic_and_reported(git_repo, run_cs, tmp_path) -> None:
    run_cs("start", "x", "--json", cwd=git_repo)
    target = tmp_path / "out.csv"

    result = run_cs(
        "export", "--format", "csv", "-o", str(target), "--json", cwd=git_repo
    )

    assert result.json["rows"] == 1
    assert target.read_text(encoding="utf-8").startswith("id,name,")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_export_calls_streams_one_row_per_call(git_repo, run_cs) -> None:
    run_cs("start", "x", "--json", cwd=git_repo)
    for cost in ("0.1", "0.2"):
        run_cs(
            "log-ai",
            "-p",
            "openai",
            "-m",
            "gpt-4o",
            "-c",
            cost,
            "-t",
            "5",
            cwd=git_repo,
        )

    rows = json.loads(run_cs("export", "--calls", cwd=git_repo).stdout)

    assert [(r["cost"], r["sessionName"], r["estimated"]) for r in rows] == [
        (0.2, "x", True), (0.1, "x", True),
    ]  # fmt: skip
