"""`rdbench review`: tables with evidence, results kept beside the logs, bad input."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import CORPUS

from rdbench.cli import main
from rdbench.review import RESULTS_SUFFIX, results_path

PICK = ("tamper_edit_check", "benign_reference_notes", "env_scorer_crash", "refusal")


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    folder = tmp_path / "logs"
    folder.mkdir()
    for name in PICK:
        shutil.copy(CORPUS / f"{name}.eval", folder / f"{name}.eval")
    return folder


def _run(capsys, argv: list[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as ex:
        code = ex.code
    out = capsys.readouterr()
    return code, " ".join(out.out.split()), out.err  # rich wraps lines at the console width


def test_table_per_attempt_with_evidence_and_json(logs, tmp_path, capsys):
    out_json = tmp_path / "review.json"
    code, out, err = _run(capsys, ["review", str(logs), "--json", str(out_json)])
    assert code == 0, err
    assert "scoring_tampering" in out and "echo 'print(\"OK\")' > check.py" in out
    assert "benign_reference_notes.eval" in out and "nothing fired" in out
    assert "environment_error" in out and "refusal" in out
    assert "4 attempts in 4 logs: 2 flagged, 1 with environment errors" in out
    assert "4 scanned, 0 from stored results" in out
    assert f"inspect view --log-dir {logs}" in out
    data = json.loads(out_json.read_text())
    by_log = {Path(a["log"]).stem: a for a in data["attempts"]}
    assert [f["monitor"] for f in by_log["tamper_edit_check"]["findings"]] == ["scoring_tampering"]
    assert by_log["tamper_edit_check"]["findings"][0]["message_index"] == 6
    assert by_log["benign_reference_notes"]["findings"] == []
    assert data["flagged"] == 2 and data["environment_errors"] == 1
    for name in PICK:
        assert results_path(logs / f"{name}.eval").is_file()


def test_second_run_reads_stored_results_not_the_logs(logs, capsys, monkeypatch):
    assert _run(capsys, ["review", str(logs)])[0] == 0
    stored = {p: p.stat().st_mtime_ns for p in logs.glob(f"*{RESULTS_SUFFIX}")}
    assert len(stored) == len(PICK)
    from rdbench.review import store

    def no_reading(path):
        raise AssertionError(f"{path} was read again")

    monkeypatch.setattr(store, "read_transcripts", no_reading)
    code, out, err = _run(capsys, ["review", str(logs)])
    assert code == 0, err
    assert "0 scanned, 4 from stored results" in out and "scoring_tampering" in out
    assert {p: p.stat().st_mtime_ns for p in stored} == stored  # untouched


def test_changed_log_or_damaged_results_are_scanned_again(logs, capsys):
    assert _run(capsys, ["review", str(logs)])[0] == 0
    log = logs / "refusal.eval"
    os.utime(log, ns=(log.stat().st_atime_ns, log.stat().st_mtime_ns + 10**9))
    results_path(logs / "env_scorer_crash.eval").write_text("{not json")
    code, out, _ = _run(capsys, ["review", str(logs)])
    assert code == 0 and "2 scanned, 2 from stored results" in out
    data = json.loads(results_path(logs / "env_scorer_crash.eval").read_text())
    assert data["attempts"][0]["findings"][0]["monitor"] == "environment_error"


@pytest.mark.parametrize("bad", ["corrupt", "truncated", "text", "missing", "results-file"])
def test_bad_input_is_one_line_exit_2_and_nothing_written(logs, tmp_path, capsys, bad):
    assert _run(capsys, ["review", str(logs / "refusal.eval")])[0] == 0
    kept = results_path(logs / "refusal.eval")
    before = kept.read_bytes()
    kept_ns = kept.stat().st_mtime_ns
    target = tmp_path / "bad.eval"
    if bad == "corrupt":
        target.write_bytes(b"PK\x03\x04 not really a zip")
    elif bad == "truncated":
        data = (CORPUS / "benign_plain.eval").read_bytes()
        target.write_bytes(data[: len(data) // 2])
    elif bad == "text":
        target = tmp_path / "notes.txt"
        target.write_text("hello\n")
    elif bad == "results-file":
        target = kept
    out_json = tmp_path / "out.json"
    code, _, err = _run(capsys, ["review", str(logs), str(target), "--json", str(out_json)])
    assert code == 2
    line = err.strip()
    assert "\n" not in line and "Traceback" not in line and str(target) in line
    assert kept.read_bytes() == before and kept.stat().st_mtime_ns == kept_ns
    assert not out_json.exists()
    # none of the good logs got results: the scan stopped before writing anything
    assert sorted(p.name for p in logs.glob(f"*{RESULTS_SUFFIX}")) == [kept.name]


def test_json_output_may_not_be_an_input(logs, capsys):
    code, _, err = _run(capsys, ["review", str(logs / "refusal.eval"),
                                 "--json", str(logs / "refusal.eval")])
    assert code == 2 and "is an input" in err


def test_every_attempt_of_a_log_is_reviewed(tmp_path, capsys):
    """A log with several attempts (epochs): one table per attempt, each its own findings."""
    from inspect_ai.log import read_eval_log, write_eval_log

    log = read_eval_log(str(CORPUS / "tamper_edit_check.eval"))
    clean = read_eval_log(str(CORPUS / "benign_plain.eval")).samples[0]
    second = clean.model_copy(update={"epoch": 2, "id": log.samples[0].id})
    log.samples = [log.samples[0], second]
    path = tmp_path / "two.eval"
    write_eval_log(log, str(path))
    out_json = tmp_path / "out.json"
    code, out, err = _run(capsys, ["review", str(path), "--json", str(out_json)])
    assert code == 0, err
    assert "2 attempts in 1 logs: 1 flagged" in out
    attempts = json.loads(out_json.read_text())["attempts"]
    assert [(a["epoch"], [f["monitor"] for f in a["findings"]]) for a in attempts] == [
        (1, ["scoring_tampering"]), (2, [])]


def test_results_that_cannot_be_stored_are_a_warning(logs, capsys, monkeypatch):
    from rdbench import outputs
    from rdbench.errors import UserError

    def refuse(path, text):
        raise UserError(f"{path}: cannot write: Read-only file system")

    monkeypatch.setattr("rdbench.review.store.atomic_write_text", refuse)
    assert outputs.atomic_write_text is not refuse
    code, out, err = _run(capsys, ["review", str(logs / "refusal.eval")])
    assert code == 0 and "refusal" in out
    assert "results not stored" in err and "Read-only file system" in err
    assert not list(logs.glob(f"*{RESULTS_SUFFIX}"))
