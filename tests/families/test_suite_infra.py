"""The suite's plumbing: `rdbench tasks` (bins, JSON fields, bad input), `check` of a
reference below its threshold, success by the task's threshold in the records, and human
times from baselines (`tasks --human-times`, `horizon --human-times`)."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rdbench.cli import main
from rdbench.stats.human_times import apply_human_times, baselined_minutes, estimate_count

TOY = """
from rdbench.errors import InvalidSubmission
from rdbench.tasks.contract import Normalization, TaskFamily, TaskVariant

class Toy(TaskFamily):
    name = "{name}"
    summary = "toy"
    human_minutes = 30.0
    success_threshold = {threshold}
    normalization = Normalization(start=0.0, reference=10.0)

    def variants(self):
        return [TaskVariant(self.name, v, "Write a number to answer.txt.", self.normalization,
                            m, 600, success_threshold=self.success_threshold)
                for v, m in (("short", {minutes}), ("long", 4 * {minutes}))]

    def score(self, workspace, variant):
        try:
            return float((workspace / "answer.txt").read_text())
        except (OSError, ValueError) as ex:
            raise InvalidSubmission("answer.txt must hold a number")
"""


def make_toy(root: Path, name: str, minutes="30.0", threshold="1.0", reference="10") -> None:
    folder = root / name
    for sub in ("workspace", "starting", "reference"):
        (folder / sub).mkdir(parents=True)
    (folder / "family.py").write_text(
        textwrap.dedent(TOY.format(name=name, minutes=minutes, threshold=threshold))
    )
    (folder / "starting" / "answer.txt").write_text("0")
    (folder / "reference" / "answer.txt").write_text(reference)


def run(capsys, *args):
    code = 0
    try:
        main(list(args))
    except SystemExit as ex:
        code = ex.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_tasks_prints_the_bins_and_json_fields(capsys):
    code, out, _ = run(capsys, "tasks", "pick_checkpoint", "train_loop_bugs")
    assert code == 0
    assert "tasks per band of human time" in out and "1-4 h" in out
    assert "rest on estimated human minutes" in out
    code, out, _ = run(capsys, "tasks", "--json", "pick_checkpoint", "train_loop_bugs")
    rows = {r["task_id"]: r for r in json.loads(out)}
    gauntlet = rows["train_loop_bugs/gauntlet"]
    assert gauntlet["human_minutes"] == 300 and gauntlet["time_bin"] == "4-16 h"
    assert gauntlet["human_minutes_source"] == "estimate" and gauntlet["success_threshold"] == 1
    assert rows["pick_checkpoint/lowest_val"]["time_bin"] == "1-4 min"
    assert not any(r["scoring_over_60s"] for r in rows.values())


def test_a_slow_scorer_says_so(capsys, tmp_path, monkeypatch):
    make_toy(tmp_path, "toy_slow")
    path = tmp_path / "toy_slow" / "family.py"
    path.write_text(
        path.read_text().replace('summary = "toy"', 'summary = "toy"\n    scoring_seconds = 90')
    )
    monkeypatch.setenv("RDBENCH_TASKS_PATH", str(tmp_path))
    code, out, _ = run(capsys, "tasks", "--json", "toy_slow")
    assert code == 0 and all(r["scoring_over_60s"] for r in json.loads(out))
    _, out, _ = run(capsys, "tasks", "toy_slow")
    assert "scoring takes over 60 s: toy_slow/short, toy_slow/long" in out


@pytest.mark.parametrize(
    "minutes, threshold, problem",
    [
        ("0.0", "1.0", "human_minutes must be a positive number"),
        ("float('nan')", "1.0", "human_minutes must be a positive number"),
        ("30.0", "1.5", "outside the normalized scale"),
        ("30.0", "0.0", "outside the normalized scale"),
    ],
)
def test_bad_task_metadata_is_one_line_naming_the_task(
    capsys, tmp_path, monkeypatch, minutes, threshold, problem
):
    make_toy(tmp_path, "toy_bad", minutes=minutes, threshold=threshold)
    monkeypatch.setenv("RDBENCH_TASKS_PATH", str(tmp_path))
    for verb in ("tasks", "check"):
        code, out, err = run(capsys, verb, "toy_bad")
        assert code == 2, (verb, out, err)
        assert err.count("\n") == 1 and "task toy_bad/short" in err and problem in err
        assert "Traceback" not in err


def test_check_fails_a_reference_below_its_threshold(capsys, tmp_path, monkeypatch):
    # normalized 0.94: below its threshold 1.0 by more than check's tolerance (0.05), which
    # lets a continuous task's reference (threshold = its own score) pass on noise
    make_toy(tmp_path, "toy_low", reference="9.4")
    monkeypatch.setenv("RDBENCH_TASKS_PATH", str(tmp_path))
    code, _, _ = run(capsys, "check", "toy_low", "--json", str(tmp_path / "c.json"))
    assert code == 1
    rows = json.loads((tmp_path / "c.json").read_text())
    ref = [r for r in rows if r["solution"] == "reference"]
    assert all(not r["ok"] and "below its success threshold 1" in r["message"] for r in ref)
    assert "task toy_low/short: its reference scores 0.940" in ref[0]["message"]
    # the same reference passes when its task declares a threshold it reaches
    make_toy(tmp_path / "b", "toy_ok", reference="9.7", threshold="0.9")
    monkeypatch.setenv("RDBENCH_TASKS_PATH", str(tmp_path / "b"))
    assert run(capsys, "check", "toy_ok")[0] == 0


def _attempts(rows):
    base = {"is_human": True, "success": True, "human_minutes": 30.0}
    return pd.DataFrame([{**base, **r} for r in rows])


def test_baselined_minutes_is_the_geometric_mean_of_successful_times():
    attempts = _attempts(
        [
            {"task_id": "f/a", "working_time_s": 600.0},
            {"task_id": "f/a", "working_time_s": 2400.0},
            {"task_id": "f/a", "working_time_s": 60.0, "success": False},  # failed: ignored
            {"task_id": "f/b", "working_time_s": 100.0, "success": False},
            {"task_id": "f/c", "working_time_s": 50.0, "is_human": False},  # an agent: ignored
        ]
    )
    table = baselined_minutes(attempts).set_index("task_id")
    assert list(table.index) == ["f/a", "f/b"]
    assert table.loc["f/a", "baselined_minutes"] == pytest.approx(20.0)  # sqrt(10 * 40)
    assert table.loc["f/a", "successful"] == 2 and table.loc["f/a", "baselines"] == 3
    assert math.isnan(table.loc["f/b", "baselined_minutes"])
    agents = pd.DataFrame({"task_id": ["f/a", "f/b", "f/c"], "human_minutes": [30.0, 30.0, 5.0]})
    out = apply_human_times(agents, table.reset_index())
    assert np.allclose(out["human_minutes"], [20.0, 30.0, 5.0])
    assert list(out["human_minutes_source"]) == ["baseline", "estimate", "estimate"]
    assert estimate_count(out) == (2, 3)
    with pytest.raises(ValueError, match="working_time_s"):
        baselined_minutes(agents)


def _run_toy(tmp_path, name, monkeypatch, metadata, epochs=1, threshold="1.0", reference="10"):
    from inspect_ai import eval as inspect_eval

    from rdbench.agents import replay_agent
    from rdbench.tasks import load_families
    from rdbench.tasks.inspect_adapter import _family, family_task

    if not (tmp_path / "fam" / name).exists():
        make_toy(tmp_path / "fam", name, threshold=threshold, reference=reference)
    monkeypatch.setenv("RDBENCH_TASKS_PATH", str(tmp_path / "fam"))
    _family.cache_clear()
    family = load_families([name])[0]
    task = family_task(family, solver=replay_agent(), metadata=metadata, epochs=epochs)
    log = inspect_eval(
        task, model="none/none", log_dir=str(tmp_path / "logs" / name), display="none"
    )[0]
    assert log.status == "success", log.error
    return Path(log.location)


@pytest.mark.slow  # two real Inspect evals in the bwrap sandbox (~20 s on 2 busy cores)
def test_success_uses_the_tasks_threshold_and_human_times_close_the_loop(
    capsys, tmp_path, monkeypatch
):
    from rdbench.records import load_attempts

    # the reference scores 0.6: a success only because the task's threshold is 0.5
    log = _run_toy(
        tmp_path,
        "toy_half",
        monkeypatch,
        {"rdbench_agent": "replay"},
        threshold="0.5",
        reference="6",
    )
    attempts, _, _ = load_attempts([log])
    assert attempts["score"].tolist() == [0.6, 0.6] and attempts["success"].all()
    human = _run_toy(
        tmp_path,
        "toy_half",
        monkeypatch,
        {"rdbench_is_human": True, "rdbench_baseliner": "alice"},
        threshold="0.5",
        reference="6",
    )
    humans, _, _ = load_attempts([human])
    code, out, err = run(capsys, "tasks", "--json", "--human-times", str(human), "toy_half")
    assert code == 0, err
    rows = {r["task_id"]: r for r in json.loads(out)}
    want = humans.set_index("task_id")["working_time_s"] / 60
    for task_id, row in rows.items():
        assert row["successful_baselines"] == 1
        assert row["baselined_minutes"] == pytest.approx(want[task_id])
    code, out, _ = run(capsys, "tasks", "--human-times", str(human), "toy_half")
    assert "2 have a successful baseline" in out
    # no human attempts in the logs: one line
    code, _, err = run(capsys, "tasks", "--human-times", str(log), "toy_half")
    assert code == 2 and "no human baseline attempts" in err
    # horizon: baselined minutes replace the estimates, and the count is shown
    code, out, err = run(
        capsys,
        "horizon",
        str(log),
        "--bootstrap",
        "0",
        "--human-times",
        str(human),
        "--json",
        str(tmp_path / "h.json"),
    )
    assert "2 of 2 tasks baselined, 0 rest on estimates" in out, (out, err)
    data = json.loads((tmp_path / "h.json").read_text())
    assert {r["human_minutes_source"] for r in data["human_minutes"]} == {"baseline"}
    assert np.allclose(
        sorted(r["human_minutes"] for r in data["human_minutes"]), sorted(want.values)
    )
    # report: the same baselined times, and the page says how many tasks rest on estimates
    page = tmp_path / "r.html"
    code, out, err = run(capsys, "report", str(log), "--bootstrap", "10", "--human-times",
                         str(human), "-o", str(page))
    assert code == 0, err
    assert "2 of 2 tasks use baselined human times" in page.read_text()
