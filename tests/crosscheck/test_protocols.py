"""The protocols end to end through Inspect, with scripted models whose errors are
controlled (tests/crosscheck/scripted.py), and the analysis on what they produce."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rdbench.crosscheck import analysis as an
from rdbench.crosscheck.run import CrosscheckPlan, compute_matched_samples, run_crosscheck

from .scripted import knows, scripted_model

P = 0.6
# Answers in these domains are checked in microseconds (no sympy, no jail), which keeps the
# protocol tests quick; test_checking.py covers the other two.
CHEAP = "logic,numeracy,geometry,statistics"


def _run(tmp_path: Path, models, problems: int, arms) -> pd.DataFrame:
    run_crosscheck(CrosscheckPlan(models=tuple(models), problems=problems, seed=0, arms=arms,
                                  domains=CHEAP),
                   tmp_path, display="none")
    return an.read_crosscheck_logs([tmp_path])


def test_independent_errors_and_a_discerning_verifier_give_the_predicted_uplift(tmp_path):
    a = scripted_model("a", p=P, knowledge_seed=1)
    b = scripted_model("b", p=P, knowledge_seed=2)
    answers = _run(tmp_path, [a, b], 48, ("single", "verify"))
    # what the scripted models know, problem by problem: the pair is right where either is
    ids = sorted(answers["problem_id"].unique())
    ka = np.array([knows(1, i, P) for i in ids])
    kb = np.array([knows(2, i, P) for i in ids])
    pair = answers[(answers["arm"] == "verify") & (answers["solver"] == "mockllm/a")]
    assert pair.set_index("problem_id").loc[ids, "correct"].tolist() == (ka | kb).tolist()
    uplift = an.uplift_table(answers, n_bootstrap=500).set_index("solver").loc["mockllm/a"]
    theory = P * (1 - P)  # 1 - (1-p)^2 - p
    assert uplift["uplift_low"] <= theory <= uplift["uplift_high"]
    assert uplift["uplift_low"] > 0
    rates = an.verifier_rates(answers).set_index("solver").loc["mockllm/a"]
    # it flags exactly the wrong answers it can correct, and the right ones it gets wrong
    assert rates["true_positive_rate"] == pytest.approx((~ka & kb).sum() / (~ka).sum())
    assert rates["flag_rate_on_right"] == pytest.approx((ka & ~kb).sum() / ka.sum())
    assert rates["talked_out_rate"] == 0.0  # a solver that knows keeps its answer
    corr = an.error_correlation(answers).iloc[0]
    assert abs(corr["phi"]) < 0.5


def test_perfectly_correlated_errors_give_no_uplift(tmp_path):
    a = scripted_model("a", p=P, knowledge_seed=1)
    twin = scripted_model("twin", p=P, knowledge_seed=1)  # the same errors
    answers = _run(tmp_path, [a, twin], 12, ("single", "verify"))
    uplift = an.uplift_table(answers, n_bootstrap=200)
    assert (uplift["uplift"] == 0).all()
    assert (an.verifier_rates(answers)["true_positive_rate"] == 0).all()
    assert an.error_correlation(answers).iloc[0]["phi"] == pytest.approx(1.0)


def test_a_verifier_that_rejects_everything_shows_its_false_positive_rate(tmp_path):
    a = scripted_model("a", p=P, knowledge_seed=1)
    cynic = scripted_model("cynic", p=P, knowledge_seed=2, verifier="reject_all")
    answers = _run(tmp_path, [a, cynic], 8, ("single", "verify"))
    rates = an.verifier_rates(answers).set_index("verifier").loc["mockllm/cynic"]
    assert rates["flag_rate_on_right"] == 1.0 and rates["true_positive_rate"] == 1.0
    single = answers[(answers["arm"] == "single") & (answers["solver"] == "mockllm/a")]
    pair = answers[(answers["arm"] == "verify") & (answers["solver"] == "mockllm/a")]
    assert pair["correct"].mean() == single["correct"].mean()  # flags with no fix change nothing


def test_all_arms_resume_and_the_compute_matched_control(tmp_path):
    a = scripted_model("a", p=P, knowledge_seed=1)
    b = scripted_model("b", p=P, knowledge_seed=2)
    plan = CrosscheckPlan(models=(a, b), problems=12, seed=0, domains="logic,numeracy")
    first = run_crosscheck(plan, tmp_path, display="none")
    answers = an.read_crosscheck_logs([tmp_path])
    assert set(answers["arm"]) == {"single", "self_check", "verify", "self_consistency"}
    # verify spends 2-3 calls where single spends one: n = round(ratio) of the measured tokens
    assert first["mockllm/a"] == compute_matched_samples(answers, "mockllm/a") >= 2
    sc = answers[answers["arm"] == "self_consistency"]
    assert (sc["n_samples"] == first["mockllm/a"]).all()
    logs = sorted(tmp_path.glob("*.eval"))
    second = run_crosscheck(plan, tmp_path, display="none")
    assert second == first and sorted(tmp_path.glob("*.eval")) == logs  # nothing re-run
    cost = an.cost_per_correct(answers).set_index(["arm", "solver"])
    assert cost.loc[("single", "mockllm/a"), "tokens_per_problem"] == 250  # scripted usage
    # the report verb reads the same logs
    proc = subprocess.run([sys.executable, "-m", "rdbench.cli", "crosscheck-report",
                           str(tmp_path), "--bootstrap", "50", "--json", "-"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout[proc.stdout.index("{\n"):])
    assert {row["arm"] for row in data["accuracy"]} == {
        "single", "self_check", "verify", "self_consistency"}
    assert "Uplift of verification" in proc.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--models", "nosuchprovider/x"], "nosuchprovider"),
        (["--models", "openai/gpt-4o"], "openai"),  # its package or its key, named
        (["--models", "a/b,a/b"], "distinct"),
        (["--models", "rdbench-local/smollm2-135m", "--arms", "single,vote"], "unknown arm"),
    ],
)
def test_cli_bad_input_one_line_before_any_call(tmp_path, args, message):
    env = {k: v for k, v in __import__("os").environ.items() if not k.endswith("_API_KEY")}
    proc = subprocess.run([sys.executable, "-m", "rdbench.cli", "crosscheck", *args,
                           "--log-dir", str(tmp_path / "logs")],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "logs").exists() or not any((tmp_path / "logs").iterdir())


def test_report_on_a_folder_without_crosscheck_logs(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "rdbench.cli", "crosscheck-report",
                           str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "no completed crosscheck logs" in proc.stderr


@pytest.mark.slow
def test_a_short_real_run_with_the_embedded_local_model(tmp_path):
    """End to end with a real (weak) model: SmolLM2-135M answers and reviews; its accuracy
    is low and does not matter -- every answer is recorded, parsable or not."""
    proc = subprocess.run(
        [sys.executable, "-m", "rdbench.cli", "crosscheck", "--models",
         "rdbench-local/smollm2-135m", "--arms", "single,self_check", "--problems", "6",
         "--max-tokens", "48", "--log-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=1500,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    answers = an.read_crosscheck_logs([tmp_path])
    assert len(answers) == 12 and set(answers["arm"]) == {"single", "self_check"}
    assert answers["tokens"].gt(0).all()
    assert set(answers["domain"]) == {"logic", "numeracy", "geometry", "calculus",
                                      "statistics", "coding"}
