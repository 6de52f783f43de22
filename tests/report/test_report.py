"""The page as a whole: sections with and without data, tables, write_report, the CLI."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from rdbench.errors import RecordsError
from rdbench.records import load_attempts, public_release_dates_path, read_release_dates
from rdbench.report import build_report, write_report
from rdbench.report.tables import attempt_list, family_table, horizon_table

N_BOOT = 20  # enough to exercise every interval; the statistics are tested in tests/stats


def _sections(report):
    return {s.id: s for s in report.sections}


def test_rdbench_data_alone_draws_budget_trajectory_and_tables(rdbench_tables):
    attempts, trajectories = rdbench_tables
    report = build_report(attempts, trajectories, n_bootstrap=N_BOOT)
    s = _sections(report)
    assert s["budget"].svg and s["trajectory"].svg
    # synthetic success is rare but present: a horizon is fitted; no release dates -> no trend
    assert s["trend"].svg is None and "--release-dates" in s["trend"].empty
    assert s["families"].tables and "fam_a" in s["families"].tables[0]


def test_metr_data_alone_draws_budget_horizon_and_trend_and_says_why_no_trajectory(metr_subset):
    attempts, trajectories, _ = load_attempts([metr_subset])
    dates = read_release_dates(public_release_dates_path())
    report = build_report(attempts, trajectories, release_dates=dates, n_bootstrap=N_BOOT)
    s = _sections(report)
    # Issue 18: the report draws what `rdbench compare` computes from METR's RE-Bench runs
    # (agents' timed attempts against the human baselines' scores).
    assert s["budget"].svg and "human" in s["budget"].svg.lower()
    assert s["trajectory"].svg is None and "trajectory" in s["trajectory"].empty
    assert s["horizon"].svg and s["trend"].svg
    labels = [card[0] for card in report.summary]
    assert labels == [
        "attempts",
        "tasks",
        "longest 50% horizon",
        "horizon doubling time",
        "p50 reaches 8 h",
        "buffered threshold",
    ]
    assert any("davinci-002" in w for w in report.warnings)
    assert "Runs without transcripts" in s["families"].tables[-1]


def test_both_sources_fill_every_section(rdbench_tables, metr_subset):
    metr, metr_traj, _ = load_attempts([metr_subset])
    attempts = pd.concat([rdbench_tables[0], metr], ignore_index=True)
    trajectories = pd.concat([rdbench_tables[1], metr_traj], ignore_index=True)
    report = build_report(
        attempts,
        trajectories,
        n_bootstrap=N_BOOT,
        release_dates=read_release_dates(public_release_dates_path()),
    )
    assert all(sec.svg for sec in report.sections if sec.id != "families")


def test_family_table_counts_and_human_reference(rdbench_tables):
    table = family_table(rdbench_tables[0]).set_index("family")
    assert list(table.index) == ["fam_a", "fam_b", "fam_c"]
    assert table.loc["fam_a", "tasks"] == 2
    assert table.loc["fam_a", "attempts"] == 2 * 15
    assert table.loc["fam_a", "human runs"] == 4
    assert table.loc["fam_b", "human time"] == "8 h"
    assert table.loc["fam_a", "human time"] == "1 h–4 h"
    assert family_table(rdbench_tables[0].iloc[0:0]).empty


def test_horizon_table_orders_by_p50_and_names_the_unmeasurable():
    horizons = pd.DataFrame(
        {
            "agent": ["a", "b", "c"],
            "n_runs": [10, 10, 5],
            "n_tasks": [4, 4, 2],
            "p50": [4.0, 60.0, float("nan")],
            "p50_low": [1.0, 20.0, float("nan")],
            "p50_high": [9.0, 240.0, float("nan")],
            "p80": [1.0, 10.0, float("nan")],
            "p80_low": [0.5, 5.0, float("nan")],
            "p80_high": [2.0, 30.0, float("nan")],
            "status": ["ok", "ok", "no_success"],
            "note": ["", "", ""],
        }
    )
    table = horizon_table(horizons)
    assert list(table["agent"]) == ["b", "a", "c"]
    assert list(table["p50"]) == ["1 h", "4 min", "below range"]
    assert table["p50 95% CI"].iloc[0] == "20 min – 4 h"
    assert "below the measurable range" in table["note"].iloc[2]


def test_attempt_list_links_transcripts_and_summarizes_runs_files(rdbench_tables):
    attempts = rdbench_tables[0].head(3).copy()
    attempts["source"] = ["/logs/run 1/a.eval", "/logs/run 1/a.eval", "/data/runs.jsonl"]
    logs, others = attempt_list(attempts)
    assert list(logs["transcript"]) == ["/logs/run 1/a.eval"] * 2
    assert logs["open with"].iloc[0] == "inspect view --log-dir '/logs/run 1'"
    assert others.to_dict("records") == [{"source": "/data/runs.jsonl", "attempts": 1, "agents": 1}]


def test_write_report_is_self_contained_and_deterministic(rdbench_tables, tmp_path):
    out = write_report(*rdbench_tables, tmp_path / "sub" / "r.html", n_bootstrap=N_BOOT)
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert text.count('<figure class="figure"') == 3  # budget, trajectory, horizon
    assert 'data-empty="trend"' in text
    assert "<script" not in text and "<link" not in text and "@import" not in text
    assert not re.search(r'(src|href)="(https?:)?//', text)
    assert "@media print" in text
    again = write_report(*rdbench_tables, tmp_path / "again.html", n_bootstrap=N_BOOT).read_text()
    strip = lambda t: re.sub(r"Generated [^·]*·", "", t)  # noqa: E731
    assert strip(again) == strip(text)


def test_write_report_keeps_the_old_page_on_bad_input(tmp_path):
    out = tmp_path / "r.html"
    out.write_text("old report")
    with pytest.raises(RecordsError):
        write_report(pd.DataFrame({"agent": ["a"]}), None, out)
    assert out.read_text() == "old report"
    assert not list(tmp_path.glob("*.tmp"))


def _run_cli(*args):
    from click.testing import CliRunner

    from rdbench.cli import cli

    return CliRunner().invoke(cli, list(args), standalone_mode=False, catch_exceptions=True)


def test_cli_writes_the_page_from_a_runs_file(metr_subset, tmp_path):
    out = tmp_path / "r.html"
    result = _run_cli(
        "report",
        str(metr_subset),
        "-o",
        str(out),
        "--bootstrap",
        "20",
        "--threshold",
        "2400",
        "--release-dates",
        str(public_release_dates_path()),
    )
    assert result.exception is None, result.output
    assert result.output.strip() == str(out)
    text = out.read_text()
    assert "p50 reaches 40 h" in text  # the threshold is a bare number of minutes
    # budget (METR's RE-Bench runs against its human baselines, as `compare`), horizon,
    # trend, elicitation (the two Claude 3.5 Sonnet versions)
    assert text.count('<figure class="figure"') == 4


def test_cli_bad_input_is_one_line_exit_2(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "runs.jsonl"
    bad.write_text('{"run_id": 1}\nnot json\n')
    proc = subprocess.run(
        [sys.executable, "-m", "rdbench.cli", "report", str(bad), "-o", str(tmp_path / "r.html")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rdbench: error:") and str(bad) in lines[0]
    assert not (tmp_path / "r.html").exists()


def test_cli_bad_threshold_is_a_user_error(metr_subset, tmp_path):
    from rdbench.errors import UserError

    result = _run_cli(
        "report", str(metr_subset), "-o", str(tmp_path / "r.html"), "--threshold", "soon"
    )
    assert isinstance(result.exception, UserError)


def test_cli_skip_bad_counts_and_continues(metr_subset, tmp_path):
    runs = tmp_path / "runs.jsonl"
    runs.write_text(metr_subset.read_text() + "not json\n")
    out = tmp_path / "r.html"
    result = _run_cli("report", str(runs), "-o", str(out), "--bootstrap", "10", "--skip-bad")
    assert result.exception is None, result.output
    assert "skipped 1 bad input" in result.output
    assert out.exists()


def test_no_bootstrap_means_no_intervals_and_says_why_there_is_no_trend(metr_subset):
    attempts, trajectories, _ = load_attempts([metr_subset])
    report = build_report(
        attempts,
        trajectories,
        n_bootstrap=0,
        release_dates=read_release_dates(public_release_dates_path()),
    )
    s = _sections(report)
    assert s["horizon"].svg and "n_bootstrap" in s["trend"].empty


def test_cli_refuses_too_few_bootstrap_samples(metr_subset, tmp_path):
    result = _run_cli(
        "report", str(metr_subset), "-o", str(tmp_path / "r.html"), "--bootstrap", "0"
    )
    assert result.exception is not None and not (tmp_path / "r.html").exists()


def test_shipped_public_runs_bring_their_release_dates():
    attempts, trajectories, _ = load_attempts(["metr"])
    report = build_report(attempts, trajectories, n_bootstrap=N_BOOT)  # no release_dates
    assert _sections(report)["trend"].svg


def test_budgets_beyond_the_attempts_available_are_reported(rdbench_tables):
    attempts, trajectories = rdbench_tables
    one_each = attempts.groupby(["agent", "task_id", "time_limit_s"]).head(1)
    report = build_report(one_each, trajectories, n_bootstrap=N_BOOT)
    notes = " ".join(_sections(report)["budget"].notes)
    assert "fewer than k attempts" in notes and "not drawn" in notes


def test_elicitation_section_shows_the_gap_the_buffer_and_the_buffered_threshold(metr_subset):
    # METR's two Claude 3.5 Sonnet versions share one model id: two configurations of it
    attempts, trajectories, _ = load_attempts([metr_subset])
    dates = read_release_dates(public_release_dates_path())
    report = build_report(attempts, trajectories, release_dates=dates, n_bootstrap=N_BOOT)
    section = _sections(report)["elicitation"]
    assert section.svg and "Claude 3.5 Sonnet (New)" in section.tables[0]
    buffer_note = next(n for n in section.notes if n.startswith("Safety buffer"))
    factor = float(re.search(r"upper bound ×([0-9.]+)", buffer_note).group(1))
    assert factor >= 1
    card = {label: (value, detail) for label, value, detail in report.summary}
    _, detail = card["buffered threshold"]
    assert f"÷ buffer ×{factor:.2f}" in detail and "8 h" in detail
    assert "Against 8 h with the buffer" in " ".join(section.notes)


def test_elicitation_section_says_how_to_measure_a_gap(rdbench_tables):
    attempts, trajectories = rdbench_tables  # one configuration per model
    report = build_report(attempts, trajectories, n_bootstrap=N_BOOT)
    section = _sections(report)["elicitation"]
    assert section.svg is None and "rdbench run --scaffold" in section.empty
    assert "buffered threshold" not in [card[0] for card in report.summary]
