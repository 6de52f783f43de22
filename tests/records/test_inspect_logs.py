"""Reading rdbench's Inspect logs into the Attempt and trajectory tables."""

from __future__ import annotations

import math
import shutil

import pandas as pd
import pytest

from rdbench.errors import RecordsError
from rdbench.records import (
    ATTEMPT_COLUMNS,
    TRAJECTORY_COLUMNS,
    load_attempts,
    read_eval_log_file,
    read_tables,
    write_tables,
)


def test_agent_log_fields(eval_logs):
    attempts, trajectories = read_eval_log_file(eval_logs["agent"])
    assert list(attempts.columns) == list(ATTEMPT_COLUMNS)
    assert list(trajectories.columns) == list(TRAJECTORY_COLUMNS)
    assert len(attempts) == 4  # 2 tasks x 2 epochs
    row = attempts.iloc[0]
    assert row["agent"] == "react" and row["scaffold"] == "react-v1"
    assert row["model"] == "mockllm/model" and not row["is_human"]
    assert set(attempts["task_family"]) == {"fam_a", "fam_b"}
    assert set(attempts["task_id"]) == {"fam_a/main", "fam_b/main"}
    assert attempts.set_index("task_id")["human_minutes"].to_dict() == {
        "fam_a/main": 120.0, "fam_b/main": 30.0
    }
    assert (attempts["time_limit_s"] == 1800).all()
    assert attempts["score"].tolist() == [0.8] * 4
    assert attempts["score_raw"].tolist() == [8.0] * 4
    assert (attempts["tokens"] == 12).all()
    assert not attempts["success"].any()  # 0.8 < 1.0, the default success threshold
    assert attempts["started_at"].notna().all() and attempts["working_time_s"].ge(0).all()
    assert attempts["attempt_id"].is_unique
    # trajectory from the final score's metadata; invalid points keep NaN score
    one = trajectories[trajectories["attempt_id"] == attempts["attempt_id"].iloc[0]]
    assert one["working_s"].tolist() == [60.0, 120.0, 600.0]
    assert one["score"].iloc[0] == 0.3 and math.isnan(one["score"].iloc[1])
    assert one["score_raw"].tolist()[2] == 8.0


def test_human_log_uses_score_events(eval_logs):
    attempts, trajectories = read_eval_log_file(eval_logs["human"], success_threshold=0.85)
    row = attempts.iloc[0]
    assert row["is_human"] and row["agent"] == "human" and row["model"] == "alice"
    assert row["time_limit_s"] == 1800  # the sample's own limit wins over the eval's
    assert bool(row["success"])  # 0.9 >= 0.85
    assert trajectories["score"].tolist() == [0.2, 0.5]
    assert trajectories["score_raw"].tolist() == [2.0, 5.0]
    assert trajectories["working_s"].is_monotonic_increasing


def test_directory_and_parquet_round_trip(eval_logs, tmp_path):
    logs = tmp_path / "logs"
    (logs / "nested").mkdir(parents=True)
    shutil.copy(eval_logs["agent"], logs / eval_logs["agent"].name)
    shutil.copy(eval_logs["human"], logs / "nested" / eval_logs["human"].name)
    attempts, trajectories, skipped = load_attempts([logs])
    assert (len(attempts), skipped) == (5, 0)
    assert attempts["is_human"].sum() == 1
    write_tables(attempts, trajectories, tmp_path / "tables")
    a2, t2 = read_tables(tmp_path / "tables")
    pd.testing.assert_frame_equal(attempts, a2)
    pd.testing.assert_frame_equal(trajectories.reset_index(drop=True), t2)


def _corrupt_copies(eval_logs, tmp_path):
    good = eval_logs["agent"]
    data = good.read_bytes()
    truncated = tmp_path / "truncated.eval"
    truncated.write_bytes(data[: len(data) // 2])
    garbage = tmp_path / "garbage.eval"
    garbage.write_bytes(b"this is not a zip file at all")
    return good, truncated, garbage


def test_corrupt_and_truncated_logs_name_the_file(eval_logs, tmp_path):
    _, truncated, garbage = _corrupt_copies(eval_logs, tmp_path)
    for bad in (truncated, garbage):
        with pytest.raises(RecordsError, match=bad.name):
            load_attempts([bad])


def test_skip_bad_counts_and_continues(eval_logs, tmp_path):
    good, truncated, garbage = _corrupt_copies(eval_logs, tmp_path)
    attempts, _, skipped = load_attempts([good, truncated, garbage], skip_bad=True)
    assert (len(attempts), skipped) == (4, 2)


def test_same_log_twice_is_an_error(eval_logs):
    with pytest.raises(RecordsError, match="appears twice"):
        load_attempts([eval_logs["agent"], eval_logs["agent"]])


def test_empty_directory_is_an_error(tmp_path):
    with pytest.raises(RecordsError, match="no Inspect logs"):
        load_attempts([tmp_path])


def test_progress_bar_path_reads_the_same(eval_logs):
    quiet, _, _ = load_attempts([eval_logs["agent"], eval_logs["human"]], progress=False)
    shown, _, _ = load_attempts([eval_logs["agent"], eval_logs["human"]], progress=True)
    pd.testing.assert_frame_equal(quiet, shown)
