"""Logs written by rdbench 0.1 (commit b57b0d3, before the log schema module) still read to
the same records. The fixtures were made by ``fixtures/make_fixtures.py`` with that code and
``expected.json`` by :func:`records_json` below, run then."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pandas as pd

FIXTURES = Path(__file__).parent / "fixtures" / "v0.1"


def _plain(value: object) -> object:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        return _plain(value.item())
    return value


def records_json(root: Path) -> dict[str, list[dict[str, object]]]:
    """The attempts and trajectories read from every log under ``root``, as plain JSON.

    Returns:
        ``{"attempts": [...], "trajectories": [...]}``, rows sorted by attempt id, with
        ``source`` relative to ``root``.
    """
    from rdbench.records import load_attempts

    attempts, trajectories, skipped = load_attempts([root])
    assert skipped == 0
    attempts = attempts.assign(source=[Path(s).relative_to(root).as_posix()
                                       for s in attempts["source"]])
    attempts = attempts.sort_values("attempt_id", kind="stable")
    trajectories = trajectories.sort_values(["attempt_id", "working_s"], kind="stable")
    return {
        "attempts": [{k: _plain(v) for k, v in row.items()}
                     for row in attempts.to_dict(orient="records")],
        "trajectories": [{k: _plain(v) for k, v in row.items()}
                         for row in trajectories.to_dict(orient="records")],
    }


def test_v0_1_logs_read_to_the_same_records() -> None:
    expected = json.loads((FIXTURES / "expected.json").read_text())
    got = records_json(FIXTURES)
    assert len(got["attempts"]) == len(expected["attempts"]) >= 3
    assert {a["agent"] for a in got["attempts"]} >= {"replay", "scripted"}
    # Columns added since: `source_format` (what the source file is).
    assert {a.pop("source_format") for a in got["attempts"]} == {"inspect"}
    assert got == expected


if __name__ == "__main__":  # regenerate: python tests/records/test_fixtures_v0_1.py
    print(json.dumps(records_json(Path(sys.argv[1]) if len(sys.argv) > 1 else FIXTURES),
                     indent=1, sort_keys=True))
