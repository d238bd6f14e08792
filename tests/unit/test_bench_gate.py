"""The bench's CI gate (bench/gate.py) reads README's Measured table: every gated row must be there, parseable."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("bench_gate", ROOT / "bench" / "gate.py")
assert spec is not None and spec.loader is not None
gate = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gate)


def test_readme_records_a_ratio_for_every_gated_row() -> None:
    recorded = gate.readme_ratios(ROOT / "README.md")
    assert sorted(recorded) == sorted(gate.ROWS)
    for label in gate.ROWS:
        assert len(recorded[label]) == (1 if label == gate.MEMORY_ROW else 2), label
        assert all(r > 0 for r in recorded[label]), label


def test_a_ratio_worse_than_twice_the_recorded_one_fails() -> None:
    recorded = {label: [1.0, 2.0] for label in gate.ROWS}
    measured = {label: [2.0, 4.0] for label in gate.ROWS}  # exactly twice: still within
    assert all(ok for _, ok, _ in gate.check(measured, recorded))
    measured[gate.ROWS[0]] = [2.01, 1.0]
    verdicts = gate.check(measured, recorded)
    assert [label for label, ok, _ in verdicts if not ok] == [gate.ROWS[0]]


def test_a_table_without_the_rows_records_nothing(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\n## Measured\n\n| | a | b | ratio |\n|---|---|---|---|\n| other | 1 | 2 | 0.5 |\n")
    assert gate.readme_ratios(readme) == {}
