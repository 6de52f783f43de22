"""The one log schema (``rdbench.logschema``): the docs name every field, the writers' key
sets survive a read-write round trip, and a malformed field is one line, not a traceback."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from rdbench.errors import RecordsError
from rdbench.logschema import (
    EVAL_METADATA_PREFIX,
    EvalMetadata,
    FinalScoreMetadata,
    LogSchemaError,
    SampleMetadata,
    schema_field_names,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "log-format.md"
FIXTURES = Path(__file__).parent / "fixtures" / "v0.1"


def test_docs_name_every_schema_field_and_no_other_rdbench_key() -> None:
    doc = DOC.read_text()
    missing = [
        f"{model}.{key}"
        for model, keys in schema_field_names().items()
        for key in keys
        if f"`{key}`" not in doc and f'"{key}"' not in doc
    ]
    assert missing == []
    documented = set(re.findall(r"`(rdbench_[a-z_]+)`", doc))
    known = set(schema_field_names()["EvalMetadata"])
    assert documented - known == set()
    assert all(key.startswith(EVAL_METADATA_PREFIX) for key in known)


def _fixture_logs() -> list:
    from inspect_ai.log import read_eval_log

    return [read_eval_log(str(p)) for p in sorted(FIXTURES.rglob("*.eval"))]


def test_fixture_metadata_round_trips_to_the_same_dicts() -> None:
    """What the writers wrote parses, and dumps back to exactly the same keys and values."""
    logs = _fixture_logs()
    assert len(logs) == 2
    for log in logs:
        meta = log.eval.metadata
        assert EvalMetadata.from_metadata(meta).to_metadata() == meta
        for sample in log.samples:
            assert SampleMetadata.from_metadata(sample.metadata).to_metadata() == sample.metadata
            final = sample.scores["rdbench_scorer"].metadata
            parsed = FinalScoreMetadata.from_metadata(final)
            assert parsed.to_metadata() == final
            assert parsed.details is None and parsed.timing_unreliable is None


def test_new_optional_score_fields_parse() -> None:
    parsed = FinalScoreMetadata.from_metadata(
        {"raw": 1.5, "details": {"seconds": 0.2}, "timing_unreliable": "timing unreliable: x"}
    )
    assert parsed.details == {"seconds": 0.2}
    assert parsed.timing_unreliable == "timing unreliable: x"


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"trajectory": [1]}, "trajectory.0"),
        ({"trajectory": "abc"}, "trajectory"),
        ({"trajectory": [{"valid": "maybe"}]}, "trajectory.0.valid"),
    ],
)
def test_malformed_score_metadata_is_one_line(metadata, message) -> None:
    with pytest.raises(LogSchemaError, match=re.escape(message)) as info:
        FinalScoreMetadata.from_metadata(metadata, "x.eval")
    assert "\n" not in str(info.value)


def test_a_trajectory_holding_a_non_object_is_a_records_error(tmp_path: Path) -> None:
    """Issue 21: this was an AttributeError traceback, even with --skip-bad."""
    from inspect_ai.log import read_eval_log, write_eval_log

    from rdbench.records import load_attempts

    source = next(iter(sorted((FIXTURES / "replay").glob("*.eval"))))
    log = read_eval_log(str(source))
    log.samples[0].scores["rdbench_scorer"].metadata["trajectory"] = [3, "x"]
    bad = tmp_path / "bad.eval"
    write_eval_log(log, str(bad))
    with pytest.raises(RecordsError, match="trajectory.0") as info:
        load_attempts([bad])
    assert "\n" not in str(info.value)
    shutil.copy(source, tmp_path / "good.eval")
    attempts, _, skipped = load_attempts([tmp_path], skip_bad=True)
    assert skipped == 1 and len(attempts) == 1


def test_source_format_is_a_column_and_old_tables_get_it(tmp_path: Path) -> None:
    """Records say what their source is in a column; tables stored before it infer it."""
    import pandas as pd

    from rdbench.records import default_release_dates, load_attempts, public_runs_path
    from rdbench.records.tables import ATTEMPTS_FILE, read_tables, write_tables

    attempts, trajectories, _ = load_attempts([FIXTURES])
    assert set(attempts["source_format"]) == {"inspect"}
    assert default_release_dates(attempts) is None
    runs = tmp_path / "runs.jsonl"
    runs.write_text("\n".join(public_runs_path().read_text().splitlines()[:20]) + "\n")
    metr, _, _ = load_attempts([runs])
    assert set(metr["source_format"]) == {"metr-runs"}
    both = pd.concat([attempts, metr], ignore_index=True)
    write_tables(both.drop(columns=["source_format"]), trajectories, tmp_path / "old")
    old = pd.read_parquet(tmp_path / "old" / ATTEMPTS_FILE)
    assert "source_format" in old  # write_tables coerces: drop it to mimic a 0.1 table
    old.drop(columns=["source_format"]).to_parquet(tmp_path / "old" / ATTEMPTS_FILE)
    read, _ = read_tables(tmp_path / "old")
    assert read["source_format"].tolist() == ["inspect"] * len(attempts) + ["metr-runs"] * 20
    public, _, _ = load_attempts(["metr"])
    assert "Claude 3.5 Sonnet (New)" in (default_release_dates(public) or {})
