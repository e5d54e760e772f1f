"""Chart geometry for the inline SVG charts.

Python computes coordinates and the templates draw them, so every label goes
through Jinja's escaping like any other text.
"""

from collections.abc import Sequence
from typing import Any

WIDTH = 720
HEIGHT = 180
PAD_LEFT = 64
PAD_BOTTOM = 24
PAD_TOP = 10


def nice_max(value: float) -> float:
    """Round a maximum up to 1, 2 or 5 times a power of ten."""
    if value <= 0:
        return 1.0
    scale = 1.0
    while scale * 10 <= value:
        scale *= 10
    while scale > value:
        scale /= 10
    for step in (1, 2, 5, 10):
        if step * scale >= value:
            return step * scale
    return 10 * scale


def columns(
    labels: Sequence[str], values: Sequence[float], every: int = 5
) -> dict[str, Any]:
    """Return bars for a column chart: x, y, width, height, label, value."""
    top = nice_max(max(values, default=0))
    inner_w, inner_h = WIDTH - PAD_LEFT - 8, HEIGHT - PAD_BOTTOM - PAD_TOP
    step = inner_w / max(len(values), 1)
    bars = []
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        height = inner_h * value / top
        bars.append(
            {
                "x": round(PAD_LEFT + index * step + step * 0.1, 1),
                "y": round(PAD_TOP + inner_h - height, 1),
                "w": round(step * 0.8, 1),
                "h": round(height, 1),
                "label": label,
                "value": value,
                "tick": index % every == 0,
                "cx": round(PAD_LEFT + index * step + step / 2, 1),
            }
        )
    return _frame(bars, top, inner_h)


def line(
    labels: Sequence[str], values: Sequence[float], every: int = 5
) -> dict[str, Any]:
    """Return the points of a line chart, plus the frame."""
    chart = columns(labels, values, every)
    chart["points"] = " ".join(f"{bar['cx']},{bar['y']}" for bar in chart["bars"])
    return chart


def _frame(bars: list[dict[str, Any]], top: float, inner_h: float) -> dict[str, Any]:
    grid = [
        {"y": round(PAD_TOP + inner_h * (1 - share), 1), "value": top * share}
        for share in (0, 0.5, 1)
    ]
    return {
        "bars": bars,
        "grid": grid,
        "width": WIDTH,
        "height": HEIGHT,
        "left": PAD_LEFT,
        "base": PAD_TOP + inner_h,
    }


def hbars(items: Sequence[tuple[str, float]], width: int = 300) -> dict[str, Any]:
    """Return horizontal bars, one row of 22 px per item."""
    top = max((value for _, value in items), default=0) or 1
    rows = [
        {
            "label": label,
            "value": value,
            "y": index * 22,
            "w": round(width * value / top, 1),
        }
        for index, (label, value) in enumerate(items)
    ]
    return {"rows": rows, "height": max(len(rows) * 22, 22), "width": width}


def heat_cells(grid: list[list[int]], peak: int) -> list[dict[str, Any]]:
    """Return one cell per weekday and hour, with an opacity for its count."""
    cells = []
    for day, counts in enumerate(grid):
        for hour, count in enumerate(counts):
            share = count / peak if peak else 0
            cells.append(
                {
                    "x": 44 + hour * 26,
                    "y": day * 22,
                    "count": count,
                    "day": day,
                    "hour": hour,
                    "opacity": round(0.08 + 0.92 * share, 3) if count else 0.04,
                }
            )
    return cells
