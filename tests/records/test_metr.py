"""METR runs.jsonl: reading the public data, writing it back, bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from rdbench.errors import RecordsError
from rdbench.records import (
    ATTEMPT_COLUMNS,
    load_attempts,
    public_release_dates_path,
    public_runs_path,
    read_release_dates,
    read_runs_jsonl,
    read_tables,
    write_runs_jsonl,
    write_tables,
)


@pytest.fixture(scope="module")
def public():
    attempts, trajectories, skipped = read_runs_jsonl(public_runs_path())
    return attempts, trajectories, skipped


def test_public_data_shape(public):
    attempts, trajectories, skipped = public
    assert list(attempts.columns) == list(ATTEMPT_COLUMNS)
    assert (len(attempts), skipped, len(trajectories)) == (7063, 0, 0)
    assert attempts["is_human"].sum() == 211
    assert set(attempts.loc[attempts["is_human"], "agent"]) == {"human"}
    assert attempts["agent"].nunique() == 11
    assert attempts["task_id"].nunique() == 83 and attempts["task_family"].nunique() == 36
    assert attempts.groupby("agent")["success"].sum()["davinci-002"] == 0
    # human rows carry a duration, not clock times
    humans = attempts[attempts["is_human"]]
    assert humans["started_at"].isna().all() and (humans["working_time_s"] > 0).all()


def test_public_data_is_the_documented_file():
    import hashlib

    digest = hashlib.sha256(public_runs_path().read_bytes()).hexdigest()
    assert digest == "df59b43df7c0e03164cd036ce0ddaec9ceec73b3d325d8c5b7e9f5362f79ce9a"
    license_text = (public_runs_path().parent / "LICENSE").read_text()
    assert "Copyright (c) 2025 METR" in license_text


def test_round_trip_runs_jsonl(public, tmp_path):
    attempts = public[0]
    out = tmp_path / "runs.jsonl"
    assert write_runs_jsonl(attempts, out) == len(attempts)
    again, _, _ = read_runs_jsonl(out)
    pd.testing.assert_frame_equal(attempts.drop(columns="source"), again.drop(columns="source"))
    # the recomputed weights equal METR's own columns
    ours = pd.read_json(out, lines=True)
    theirs = pd.read_json(public_runs_path(), lines=True)
    assert (ours["run_id"].astype(str) == theirs["run_id"].astype(str)).all()
    assert (ours["invsqrt_task_weight"] - theirs["invsqrt_task_weight"]).abs().max() < 1e-9
    assert (ours["equal_task_weight"] - theirs["equal_task_weight"]).abs().max() < 1e-9


def test_round_trip_parquet(public, tmp_path):
    attempts, trajectories, _ = public
    write_tables(attempts, trajectories, tmp_path)
    a2, t2 = read_tables(tmp_path / "attempts.parquet")
    pd.testing.assert_frame_equal(attempts, a2)
    assert len(t2) == 0


def _lines(n=3):
    return [
        json.dumps({"run_id": f"r{i}", "task_id": "f/t", "task_family": "f", "alias": "A",
                    "human_minutes": 5, "score_binarized": i % 2, "score": float(i % 2)})
        for i in range(n)
    ]


def test_bad_json_line_names_file_and_line(tmp_path):
    path = tmp_path / "runs.jsonl"
    lines = _lines()
    lines.insert(1, '{"run_id": "broken", ')
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(RecordsError, match=r"runs\.jsonl:2: bad JSON"):
        read_runs_jsonl(path)
    attempts, _, skipped = read_runs_jsonl(path, skip_bad=True)
    assert (len(attempts), skipped) == (3, 1)


def test_missing_field_names_file_line_and_field(tmp_path):
    path = tmp_path / "runs.jsonl"
    record = json.loads(_lines(1)[0])
    del record["human_minutes"]
    path.write_text("\n".join(_lines(2) + [json.dumps(record)]) + "\n")
    with pytest.raises(RecordsError, match=r"runs\.jsonl:3: missing field\(s\) human_minutes"):
        read_runs_jsonl(path)


def test_missing_column_in_parquet(tmp_path):
    pd.DataFrame({"attempt_id": ["a"], "agent": ["x"]}).to_parquet(tmp_path / "t.parquet")
    with pytest.raises(RecordsError, match=r"t\.parquet: missing column\(s\) task_family"):
        load_attempts(tmp_path / "t.parquet")


def test_unknown_and_missing_inputs(tmp_path):
    with pytest.raises(RecordsError, match="no such file"):
        load_attempts(tmp_path / "nope.jsonl")
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(RecordsError, match="unknown input type"):
        load_attempts(tmp_path / "x.txt")


def test_metr_name_means_public_data():
    attempts, _, _ = load_attempts("metr")
    assert len(attempts) == 7063


def test_release_dates():
    dates = read_release_dates(public_release_dates_path())
    assert dates["Claude 3.5 Sonnet (New)"] == pd.Timestamp("2024-10-22")
    assert "davinci-002 (GPT-3)" in dates


def test_reading_runs_never_imports_inspect():
    code = (
        "import sys\n"
        "from rdbench.records import load_attempts\n"
        "from rdbench.stats import fit_horizons\n"
        "a, _, _ = load_attempts('metr')\n"
        "fit_horizons(a, n_bootstrap=5)\n"
        "bad = [m for m in ('inspect_ai', 'torch') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
