"""The report's cross-provider verification section (`rdbench report --crosscheck DIR`), on
logs of a real crosscheck run with scripted models whose errors are controlled."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from rdbench.cli import cli
from rdbench.crosscheck import analysis as an
from rdbench.crosscheck.run import CrosscheckPlan, run_crosscheck
from rdbench.records import public_runs_path
from rdbench.report.build import crosscheck_section

from .scripted import scripted_model

CHEAP = "logic,numeracy,geometry,statistics"


@pytest.fixture(scope="module")
def crosscheck_dir(tmp_path_factory):
    """Two scripted models with independent errors, single and verify arms, 24 problems."""
    log_dir = tmp_path_factory.mktemp("crosscheck")
    models = (scripted_model("a", p=0.6, knowledge_seed=1),
              scripted_model("b", p=0.6, knowledge_seed=2))
    run_crosscheck(CrosscheckPlan(models=models, problems=24, seed=0,
                                  arms=("single", "verify"), domains=CHEAP),
                   log_dir, display="none")
    return log_dir


def test_the_section_draws_uplift_against_correlation_with_the_cli_tables(crosscheck_dir):
    answers = an.read_crosscheck_logs([crosscheck_dir])
    section = crosscheck_section(answers, n_bootstrap=50, seed=0)
    assert section.id == "crosscheck" and section.empty is None
    assert section.svg is not None and "<svg" in section.svg
    uplift = an.uplift_table(answers, n_bootstrap=50, seed=0)
    html = "".join(section.tables)
    # every ordered pair, with the uplift the analysis computes (as a signed percentage)
    for row in uplift.itertuples():
        assert f"{row.solver} ← {row.verifier}" in html
        assert f"{row.uplift:+.1%}" in html
    assert "catches wrong (TPR)" in html and "single" in html
    assert f"{answers['problem_id'].nunique()} problems" in section.notes[0]


def test_one_model_alone_gets_a_sentence_not_a_figure(crosscheck_dir):
    answers = an.read_crosscheck_logs([crosscheck_dir])
    alone = answers[(answers["arm"] == "single") & (answers["solver"] == "mockllm/a")]
    section = crosscheck_section(alone, n_bootstrap=20, seed=0)
    assert section.svg is None and "rdbench crosscheck" in section.empty
    assert len(section.tables) == 1  # accuracy per arm only


def test_cli_report_adds_the_section_and_refuses_a_folder_without_crosscheck_logs(
    crosscheck_dir, tmp_path
):
    runs = tmp_path / "runs.jsonl"
    runs.write_text("\n".join(public_runs_path().read_text().splitlines()[::12]) + "\n")
    out = tmp_path / "r.html"
    result = CliRunner().invoke(cli, ["report", str(runs), "-o", str(out), "--bootstrap", "20",
                                       "--crosscheck", str(crosscheck_dir)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert '<section id="crosscheck">' in text and 'data-figure="crosscheck"' in text
    assert re.search(r"mockllm/a ← mockllm/b", text)
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = subprocess.run([sys.executable, "-m", "rdbench.cli", "report", str(runs), "-o",
                           str(tmp_path / "x.html"), "--crosscheck", str(empty)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "no completed crosscheck logs" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.html").exists()
