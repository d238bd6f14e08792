"""The bench's one timing gate: ratios to livekit-client measured in the same run, against the ratios README records.

No dependencies (read by bench/startup.py and by a unit test that keeps README's table parseable). A ratio is
ours / livekit-client for the same row; the gate fails a row when this run's ratio is worse (higher) than
``FACTOR`` times the recorded one. Never an absolute time.
"""

from __future__ import annotations

import re
from pathlib import Path

FACTOR = 2.0

# (README row label, timing key in the pages' window.<state>.timings): each row is "cold / warm"
TIME_ROWS = [
    ("navigation → SDK usable, cold / warm", "sdkReadyMs"),
    ("navigation → first remote frame, cold / warm", "firstFrameAtMs"),
    ("`connect()` → connected, cold / warm", "connectMs"),
    ("`connect()` → first remote frame, cold / warm", "firstRemoteFrameMs"),
]
MEMORY_ROW = "JS heap + wasm memory, cold"
ROWS = [label for label, _ in TIME_ROWS] + [MEMORY_ROW]


def readme_ratios(readme: Path) -> dict[str, list[float]]:
    """The ratios the first table of README's "## Measured" section records, per row label of :data:`ROWS`
    (``[cold, warm]``, or ``[value]`` for the memory row)."""
    text = readme.read_text(encoding="utf-8")
    if "\n## Measured" not in text:
        return {}
    section = text.split("\n## Measured", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = next((line for line in lines if "ratio" in line), None)
    if header is None:
        return {}
    col = [c.strip() for c in header.strip().strip("|").split("|")].index("ratio")
    recorded: dict[str, list[float]] = {}
    for line in lines:
        row = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(row) > col and row[0] in ROWS and row[0] not in recorded:
            recorded[row[0]] = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", row[col])]
    return recorded


def check(measured: dict[str, list[float]], recorded: dict[str, list[float]]) -> list[tuple[str, bool, str]]:
    """``[(row, ok, text)]``: each measured row against ``FACTOR`` times its recorded ratios."""
    out = []
    for label in ROWS:
        now, then = measured[label], recorded[label]
        limit = [FACTOR * r for r in then]
        ok = len(now) == len(then) and all(n <= lim for n, lim in zip(now, limit))
        text = (f"{label}: {' / '.join(f'{n:.2f}' for n in now)} (recorded {' / '.join(f'{r:.2f}' for r in then)}, "
                f"limit {' / '.join(f'{lim:.2f}' for lim in limit)})")
        out.append((label, ok, text))
    return out
