"""The analysis verbs: horizon, compare, trend, records; duration parsing; lazy imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from rdbench._cli._durations import format_duration, parse_duration, parse_durations
from rdbench.errors import UserError
from rdbench.records import public_release_dates_path


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rdbench.cli", *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "text, seconds",
    [("30m", 1800), ("2h", 7200), ("1.5h", 5400), ("90s", 90), ("1d", 86400),
     ("2400", 144000), (" 8H ", 28800), ("45min", 2700)],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "abc", "3x", "-2h", "0", "h"])
def test_parse_duration_errors(bad):
    with pytest.raises(UserError, match="bad duration"):
        parse_duration(bad)


def test_parse_durations_and_format():
    assert parse_durations("30m,2h,8h,32h") == [1800, 7200, 28800, 115200]
    assert [format_duration(s) for s in (90, 1800, 7200, 5400, 115200)] == [
        "90s", "30m", "2h", "1h30m", "32h"]


def test_horizon_on_public_data_json(tmp_path):
    out = tmp_path / "h.json"
    proc = run("horizon", "--bootstrap", "200", "--json", str(out), "--threshold", "8h,2400")
    assert proc.returncode == 0, proc.stderr
    assert "Claude 3.5 Sonnet (New)" in proc.stdout and "doubling time" in proc.stdout
    assert "davinci-002" in proc.stderr  # below range + lenient release-date match
    data = json.loads(out.read_text())
    agents = {a["agent"]: a for a in data["agents"]}
    assert 30 < agents["Claude 3.5 Sonnet (New)"]["p50"] < 120
    assert agents["davinci-002"]["status"] == "no_success"
    assert [f["threshold_minutes"] for f in data["trend"]["forecasts"]] == [480, 2400]
    # the JSON feeds `rdbench trend`
    proc = run("trend", str(out), "--release-dates", str(public_release_dates_path()))
    assert proc.returncode == 0, proc.stderr
    assert "parametric-ci" in proc.stdout


def test_trend_from_csv(tmp_path):
    table = tmp_path / "p50.csv"
    table.write_text("agent,p50,ci_low,ci_high\nGPT-4 0314,5,2,11\nGPT-4o,9,4,18\n"
                     "Claude 3.5 Sonnet (New),59,30,110\no1,39,20,80\n")
    proc = run("trend", str(table), "--release-dates", str(public_release_dates_path()),
               "--threshold", "2400")
    assert proc.returncode == 0, proc.stderr
    assert "doubling time" in proc.stdout and "40.0 h" in proc.stdout


def test_trend_needs_release_dates(tmp_path):
    table = tmp_path / "p50.yaml"
    table.write_text("A: 5\nB: 10\n")
    proc = run("trend", str(table))
    assert proc.returncode == 2 and "--release-dates" in proc.stderr


def test_compare_on_public_data():
    proc = run("compare", "metr", "--budgets", "30m,8h", "--attempt-lengths", "30m",
               "--bootstrap", "100")
    assert proc.returncode == 0, proc.stderr
    assert "16 x 30m" in proc.stdout and "(human)" in proc.stdout


def test_records_round_trip(tmp_path):
    proc = run("records", "metr", "--out", str(tmp_path / "t"), "--jsonl", str(tmp_path / "r.jsonl"))
    assert proc.returncode == 0, proc.stderr
    assert "7063 attempts" in proc.stdout
    proc = run("horizon", str(tmp_path / "t"), "--bootstrap", "20")
    assert proc.returncode == 0, proc.stderr
    # One release-dates rule (records.default_release_dates): a table made from the public
    # runs still holds them (its rows' source), so it gets their shipped release dates.
    assert "doubling time" in proc.stdout
    proc = run("horizon", str(tmp_path / "r.jsonl"), "--bootstrap", "20")
    assert proc.returncode == 0, proc.stderr
    assert "no --release-dates" in proc.stdout


def test_bad_inputs_are_one_line_errors(tmp_path):
    bad = tmp_path / "runs.jsonl"
    bad.write_text('{"run_id": 1\n')
    proc = run("horizon", str(bad))
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "runs.jsonl:1" in proc.stderr
    proc = run("compare", "--budgets", "2 hours")
    assert proc.returncode == 2 and "bad duration" in proc.stderr
    proc = run("records", "metr")
    assert proc.returncode == 2 and "nothing to write" in proc.stderr


def test_analysis_verbs_do_not_import_inspect_or_torch(tmp_path):
    code = (
        "import sys\n"
        "from rdbench.cli import main\n"
        "for argv in (['horizon', '--bootstrap', '10'], ['compare', '--bootstrap', '10'],\n"
        "             ['trend', '--bootstrap', '10']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit as ex:\n"
        "        assert not ex.code, ex.code\n"
        "bad = [m for m in ('inspect_ai', 'torch') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


# -- issue 21: bad input is one line, nothing overwritten ---------------------------------------
RUNS = "\n".join(
    json.dumps({"run_id": f"r{i}", "task_id": f"fam{i % 3}/t{i % 6}", "task_family": f"fam{i % 3}",
                "alias": "agent-a" if i % 2 else "agent-b", "human_minutes": [2, 8, 30, 120,
                                                                              480, 960][i % 6],
                "score_binarized": int(i % 6 < 3 if i % 2 else i % 6 < 2)})
    for i in range(36)
) + "\n"


def _cli(capsys, argv: list[str]) -> tuple[int, str, str]:
    from rdbench.cli import main

    code = 0
    try:
        main(argv)
    except SystemExit as ex:
        code = int(ex.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_error(capsys, argv: list[str], match: str) -> str:
    code, _, err = _cli(capsys, argv)
    err = err.strip()
    assert code == 2, err
    assert "\n" not in err and "Traceback" not in err, err
    assert match in err, err
    return err


def test_report_output_is_checked_before_any_work(tmp_path, capsys):
    runs = tmp_path / "runs.jsonl"
    runs.write_text(RUNS)
    base = ["report", str(runs), "--bootstrap", "10"]
    # its own input
    _one_line_error(capsys, [*base, "-o", str(runs)], "is an input")
    assert runs.read_text() == RUNS
    # a FIFO (or /dev/full as root): not a regular file
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    _one_line_error(capsys, [*base, "-o", str(fifo)], "not a regular file")
    # an existing file that is not a report, unless --force
    notes = tmp_path / "notes.html"
    notes.write_text("my notes")
    _one_line_error(capsys, [*base, "-o", str(notes)], "--force")
    assert notes.read_text() == "my notes"
    # a parent that is a file, and a folder that cannot be written: one line each
    _one_line_error(capsys, [*base, "-o", str(notes / "r.html")], "cannot write")
    _one_line_error(capsys, [*base, "-o", "/proc/r.html"], "cannot write")
    # --force replaces it; an existing report is replaced without it; no temp file is left
    code, out, err = _cli(capsys, [*base, "-o", str(notes), "--force"])
    assert code == 0, err
    assert notes.read_text().startswith("<!DOCTYPE html>")
    code, out, err = _cli(capsys, [*base, "-o", str(notes)])
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "notes.html", "runs.jsonl"]


def test_json_to_stdout_parses(tmp_path, capsys):
    runs = tmp_path / "runs.jsonl"
    runs.write_text(RUNS)
    code, out, err = _cli(capsys, ["horizon", str(runs), "--bootstrap", "20", "--json", "-"])
    assert code == 0, err
    assert {a["agent"] for a in json.loads(out)["agents"]} == {"agent-a", "agent-b"}
    assert "Time horizon" in err  # the table went to stderr
    code, out, err = _cli(capsys, ["compare", "metr", "--budgets", "8h", "--attempt-lengths",
                                   "2h", "--bootstrap", "20", "--json", "-"])
    assert code == 0, err
    assert json.loads(out)["budgets_s"] == [28800.0]
    _one_line_error(capsys, ["horizon", str(runs), "--json", str(runs)], "is an input")
    assert runs.read_text() == RUNS


def test_degenerate_intervals_stay_narrow():
    from rdbench._cli._shared import fmt_ci, fmt_minutes

    assert fmt_minutes(1e150) == "6.9e+146 d"
    assert len(fmt_ci(1.0, 1e300)) < 30


@pytest.mark.parametrize("bad", ["1e30h", "10000000000000000000000h", "0.0001s", "nan", "inf"])
def test_durations_out_of_range_are_refused(bad):
    with pytest.raises(UserError, match="bad duration"):
        parse_duration(bad)


def test_duration_lists_refuse_empty_items_and_tiny_values_format():
    with pytest.raises(UserError, match="empty item"):
        parse_durations("30m,,2h")
    assert parse_durations("30m, 2h") == [1800, 7200]
    assert format_duration(0.25) == "0.25s"


def test_string_human_minutes_names_line_and_field(tmp_path, capsys):
    lines = RUNS.splitlines()
    record = json.loads(lines[4])
    record["human_minutes"] = "abc"
    lines[4] = json.dumps(record)
    runs = tmp_path / "runs.jsonl"
    runs.write_text("\n".join(lines) + "\n")
    err = _one_line_error(capsys, ["horizon", str(runs)], f"{runs}:5: field 'human_minutes'")
    assert "'abc'" in err


def test_bad_human_minutes_are_counted_not_dropped_silently(tmp_path, capsys):
    lines = RUNS.splitlines()
    for i, value in ((0, float("nan")), (1, 0), (2, -5)):
        record = json.loads(lines[i])
        record["human_minutes"] = value
        lines[i] = json.dumps(record)
    runs = tmp_path / "runs.jsonl"
    runs.write_text("\n".join(lines) + "\n")
    code, out, err = _cli(capsys, ["horizon", str(runs), "--bootstrap", "0", "--json", "-"])
    assert code == 0, err
    assert "3 run(s) left out: human_minutes missing, zero, negative or infinite" in err
    payload = json.loads(out)
    assert sum(a["n_runs"] for a in payload["agents"]) == 33
    assert any("3 run(s) left out" in w for w in payload["warnings"])


@pytest.mark.parametrize("width", [80, None])
def test_tasks_table_never_cuts_task_ids(width, monkeypatch):
    """Issue 18: `rdbench tasks` cut "fix_embedding/main" to "fix_embedd…" in 80 columns."""
    import io

    import rich.console

    import rdbench._cli.tasks as tasks_cli
    from rdbench.tasks.loader import load_families

    buf = io.StringIO()
    real = rich.console.Console

    def console(*args, **kwargs):
        if width is None:  # a pipe
            return real(*args, **{**kwargs, "file": buf})
        return real(width=width, force_terminal=True, file=buf, color_system=None)

    monkeypatch.setattr(tasks_cli, "Console", console)
    tasks_cli.tasks.callback(families=(), as_json=False, human_times=())
    text = buf.getvalue()
    assert "…" not in text
    for family in load_families():
        for variant in family.variants():
            assert variant.task_id in text
    if width:
        assert max(len(line) for line in text.splitlines()) <= width
