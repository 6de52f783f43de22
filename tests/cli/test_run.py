"""`rdbench run`: option checks, k attempts per task under a total budget, resume, cost."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from inspect_ai.model import ChatMessageAssistant, ModelOutput, ModelUsage

from rdbench._cli.run import attempts_for_budget, execute_run, plan_run, summarize_logs
from rdbench.cli import main

REFERENCE = Path(__file__).resolve().parents[2] / "src/rdbench/tasks/optimize_kernel/reference"


def _call(tool: str, **arguments: object) -> ModelOutput:
    output = ModelOutput.for_tool_call("mockllm/model", tool, arguments)
    output.usage = ModelUsage(input_tokens=2000, output_tokens=500, total_tokens=2500)
    return output


def _write_reference() -> str:
    return "\n".join(
        f"cat > {name} <<'RDBENCH_EOF'\n{(REFERENCE / name).read_text()}RDBENCH_EOF"
        for name in ("scan.c", "solution.py")
    )


class ScriptedModel:
    """mockllm `custom_outputs`: each attempt writes the fast reference, then submits."""

    def __init__(self) -> None:
        self.calls = 0
        self.steps = [_call("bash", command=_write_reference()), _call("submit", answer="done")]

    def __call__(self, input, tools, tool_choice, config):  # noqa: A002 - Inspect's signature
        self.calls += 1
        turn = sum(isinstance(m, ChatMessageAssistant) for m in input)
        return self.steps[min(turn, len(self.steps) - 1)].model_copy(deep=True)

    def __repr__(self) -> str:  # stable across runs: part of the eval set's task identity
        return "ScriptedModel()"


def _error_line(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    return err


BASE = ["run", "--model", "mockllm/model", "--tasks", "optimize_kernel", "--sandbox", "local"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--budget", "soon"], "bad duration 'soon'"),
        (["--attempt-length", "2h", "--total-budget", "1h"], "shorter than one attempt"),
        (["--total-budget", "8h"], "--total-budget needs --attempt-length"),
        (["--attempt-length", "30m", "--total-budget", "2h", "--attempts", "3"],
         "contradicts --total-budget // --attempt-length = 4"),
        (["--scaffold", "fancy"], "unknown scaffold 'fancy'"),
        (["-M", "novalue"], "bad model argument 'novalue'"),
    ],
)
def test_bad_options_fail_with_one_line(tmp_path, capsys, extra, message):
    err = _error_line(capsys, [*BASE, "--log-dir", str(tmp_path / "logs"), *extra])
    assert message in err
    assert not (tmp_path / "logs").exists()  # nothing started


def test_unknown_task_and_bad_model_fail_with_one_line(tmp_path, capsys):
    log_dir = str(tmp_path / "logs")
    err = _error_line(capsys, ["run", "--tasks", "no_such_family", "--log-dir", log_dir])
    assert "unknown task family 'no_such_family'" in err
    err = _error_line(capsys, ["run", "--model", "gpt4", "--tasks", "optimize_kernel",
                               "--sandbox", "local", "--log-dir", log_dir])
    assert "must be provider/name" in err


def test_missing_provider_package_or_key_names_what_to_do(tmp_path, capsys, monkeypatch):
    import rdbench.agents.providers as providers

    log_dir = str(tmp_path / "logs")
    argv = ["run", "--tasks", "optimize_kernel", "--sandbox", "local", "--log-dir", log_dir]
    # As on a machine without the provider packages:
    monkeypatch.setattr(providers, "_module_available", lambda name: False)
    err = _error_line(capsys, [*argv, "--model", "anthropic/claude-sonnet-4-5"])
    assert err.endswith("pip install anthropic")
    err = _error_line(capsys, [*argv, "--model", "google/gemini-2.5-pro"])
    assert err.endswith("pip install google-genai")
    err = _error_line(capsys, [*argv, "--model", "ollama/llama3.1"])
    assert err.endswith("pip install openai")
    # ... and with them, but no API key:
    monkeypatch.setattr(providers, "_module_available", lambda name: True)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    err = _error_line(capsys, [*argv, "--model", "openai/gpt-4.1"])
    assert err.endswith("no API key: set OPENAI_API_KEY in the environment")
    for var in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "VERTEX_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    err = _error_line(capsys, [*argv, "--model", "google/gemini-2.5-pro"])
    assert "set GOOGLE_API_KEY or GEMINI_API_KEY or VERTEX_API_KEY" in err


def test_unknown_provider_is_one_line(tmp_path, capsys):
    err = _error_line(capsys, ["run", "--model", "nosuch/model", "--tasks", "optimize_kernel",
                               "--sandbox", "local", "--log-dir", str(tmp_path)])
    assert "nosuch" in err and "not recognized" in err


def test_bad_price_file_fails_with_one_line(tmp_path, capsys):
    prices = tmp_path / "prices.yaml"
    prices.write_text("mockllm/model: {input: cheap, output: 1}\n")
    err = _error_line(capsys, [*BASE, "--log-dir", str(tmp_path / "l"), "--prices", str(prices)])
    assert "input is not a number" in err


def test_model_args_are_yaml_scalars():
    from rdbench._cli.run import parse_model_args

    assert parse_model_args(["gguf=/m/x.gguf", "threads=2", "prefill=false", "empty="]) == {
        "gguf": "/m/x.gguf", "threads": 2, "prefill": False, "empty": ""
    }


def test_attempts_for_budget():
    assert attempts_for_budget(1800, 8 * 3600) == 16
    assert attempts_for_budget(1800, 3599) == 1


def test_total_budget_gives_k_attempts_resumes_and_prices(tmp_path, capsys):
    """k = 6m // 2m = 3 attempts per task; a second identical run does nothing new."""
    prices = tmp_path / "prices.yaml"
    prices.write_text("mockllm/model: {input: 3.0, output: 15.0}\n")
    plan = plan_run(
        model="mockllm/model", tasks="optimize_kernel", attempt_length="2m",
        total_budget="6m", sandbox="bwrap", scaffold="react", agent_label="scripted",
        prices=prices,
    )
    assert plan.epochs == 3
    log_dir = tmp_path / "logs"
    model = ScriptedModel()
    logs = execute_run(plan, log_dir=log_dir, model_args={"custom_outputs": model})
    assert len(logs) == 1 and model.calls == 3 * 2

    rows = summarize_logs(logs)
    assert rows[0]["attempts"] == 3 and rows[0]["errors"] == 0
    # Every attempt is valid, except where a busy machine refused to time even the retried
    # final scoring (optimize_kernel is a timing family): that is recorded, not a failure.
    from inspect_ai.log import read_eval_log

    samples = read_eval_log(logs[0].location).samples or []
    finals = [sample.scores["rdbench_scorer"] for sample in samples]
    assert len(finals) == 3
    refused = [f for f in finals if not math.isfinite(f.value)]
    assert all(f.metadata.get("submission_timing_unreliable") for f in refused), refused
    assert rows[0]["valid"] == 3 - len(refused)
    if not rows[0]["valid"]:
        pytest.skip("this machine is too busy to time optimize_kernel")
    assert rows[0]["tokens"] == 3 * 2 * 2500
    expected_cost = 3 * 2 * (2000 * 3.0 + 500 * 15.0) / 1e6
    assert rows[0]["cost_usd"] == pytest.approx(expected_cost)
    assert rows[0]["mean"] > 0.0  # the reference: about 1 on an idle machine, > 0 under load

    from rdbench._cli.run import print_summary

    print_summary(logs, log_dir)
    out = capsys.readouterr().out
    assert "rdbench run: mockllm/model" in out and "optimize_kernel" in out
    assert f"{3 * 2 * 2500:,}" in out and f"{expected_cost:.4f}" in out
    assert f"inspect view --log-dir {log_dir}" in " ".join(out.split())

    meta = logs[0].eval.metadata
    assert meta["rdbench_scaffold"] == "react-v1"
    assert meta["rdbench_scaffold_settings"]["attempt_length_s"] == 120
    assert meta["rdbench_prices"]["mockllm/model"]["output"] == 15.0
    assert meta["rdbench_attempts_per_task"] == 3

    # The analysis reads the k attempts, with tokens and cost, as best-of-k.
    from rdbench.records import read_eval_logs
    from rdbench.records.inspect_logs import list_log_files
    from rdbench.stats.best_of_k import best_of_k_by_task

    files = sorted(log_dir.glob("*.eval"))
    attempts, _, _ = read_eval_logs(files)
    assert len(attempts) == 3 and set(attempts["agent"]) == {"scripted"}
    assert meta["rdbench_attempt_length_s"] == 120
    assert attempts["tokens"].tolist() == [5000.0] * 3
    assert attempts["cost_usd"].sum() == pytest.approx(expected_cost)
    by_task = best_of_k_by_task(attempts, 3)
    assert by_task["status"].tolist() == ["ok"] and math.isfinite(by_task["expected_max"].iloc[0])

    # Re-running the same command resumes: nothing is executed or rewritten.
    before = {p.name: p.stat().st_mtime_ns for p in log_dir.glob("*.eval")}
    logs_again = execute_run(plan, log_dir=log_dir, model_args={"custom_outputs": model})
    assert model.calls == 3 * 2
    assert {p.name: p.stat().st_mtime_ns for p in log_dir.glob("*.eval")} == before
    names = [Path(log.location).name for log in logs]
    assert [Path(log.location).name for log in logs_again] == names

    # Other options on the same log dir: one clear error, nothing run or overwritten.
    from rdbench.errors import UserError

    other = plan_run(model="mockllm/model", tasks="optimize_kernel", attempt_length="3m",
                     sandbox="bwrap", scaffold="react", prices=prices)
    with pytest.raises(UserError, match="holds logs of a run with other options"):
        execute_run(other, log_dir=log_dir, model_args={"custom_outputs": model})
    assert model.calls == 3 * 2
    assert {p.name: p.stat().st_mtime_ns for p in log_dir.glob("*.eval")} == before


# -- issue 21: kill -9 at any point, then the same command again --------------------------------
def _run_until(log_dir: Path, calls: Path, kill_after: int | None) -> int:
    """Start the scripted run; SIGKILL its process group once it has made ``kill_after``
    model calls (None: let it finish). Returns the exit status."""
    import os
    import signal
    import subprocess
    import sys
    import time

    env = {**os.environ, "RDBENCH_TASKS_PATH": str(Path(__file__).parents[1] / "humans/fixtures")}
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "scripted_run.py"), str(log_dir), str(calls)],
        env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    def made() -> int:
        return len(calls.read_text().splitlines()) if calls.exists() else 0

    before = made()
    deadline = time.monotonic() + 300
    try:
        while kill_after is not None and proc.poll() is None and time.monotonic() < deadline:
            if made() - before >= kill_after:
                os.killpg(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.05)
        return proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.slow
def test_kill_9_at_several_points_then_rerun_counts_each_attempt_once(tmp_path, capsys):
    """Killed while the first attempt runs, after it, and in the middle of the third; then
    the same command again: three attempts, each once, and every analysis verb reads the
    folder."""
    from rdbench.records import load_attempts

    log_dir, calls = tmp_path / "logs", tmp_path / "calls.txt"
    # 4 model calls per attempt (echo, sleep, score, submit), one attempt at a time: kill
    # during the first attempt's sleep, then just into the next attempt, then at a `score`
    # call; then run to the end.
    for kill_after in (2, 5, 3):
        assert _run_until(log_dir, calls, kill_after) != 0  # it was killed
    assert _run_until(log_dir, calls, None) == 0
    # The killed runs' logs stay beside the finished one (Inspect keeps a `started` log it
    # did not write itself): the reader must count each attempt once anyway.
    logs = sorted(log_dir.glob("*.eval"))
    assert len(logs) >= 2, logs

    attempts, trajectories, skipped = load_attempts([log_dir])
    assert skipped == 0
    assert len(attempts) == 3 and attempts["attempt_id"].is_unique
    assert attempts["score"].tolist() == [0.7, 0.7, 0.7]
    assert set(trajectories["attempt_id"]) == set(attempts["attempt_id"])

    from rdbench.cli import main

    def verb(*argv: str) -> str:
        try:
            main(list(argv))
        except SystemExit as ex:
            assert not ex.code, capsys.readouterr().err
        return capsys.readouterr().out

    assert "3 attempts" in verb("records", str(log_dir), "--out", str(tmp_path / "tables"))
    assert "scripted" in verb("compare", str(log_dir), "--budgets", "15m", "--bootstrap", "10")
    assert "scripted" in verb("horizon", str(log_dir), "--bootstrap", "10")
    verb("report", str(log_dir), "-o", str(tmp_path / "r.html"), "--bootstrap", "10")
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")


def test_unknown_local_model_is_one_line_and_starts_nothing(tmp_path, capsys):
    """Issue 21: `rdbench-local/nosuch` used to run the bundled model under the bogus name."""
    log_dir = tmp_path / "logs"
    err = _error_line(capsys, ["run", "--model", "rdbench-local/nosuch", "--tasks",
                               "optimize_kernel", "--sandbox", "local", "--log-dir",
                               str(log_dir)])
    assert "unknown local model rdbench-local/nosuch" in err and "-M gguf=PATH" in err
    assert not log_dir.exists()
    err = _error_line(capsys, ["run", "--model", "rdbench-local/mine", "-M",
                               f"gguf={tmp_path / 'none.gguf'}", "--tasks", "optimize_kernel",
                               "--sandbox", "local", "--log-dir", str(log_dir)])
    assert "is not a file" in err


def test_tasks_path_problems_are_said(tmp_path, monkeypatch, caplog):
    """Issue 21: a missing entry, a file, a folder without family.py and a family that a
    built-in shadows were ignored without a word."""
    from rdbench.tasks import loader

    (tmp_path / "extra" / "not_a_family").mkdir(parents=True)
    (tmp_path / "extra" / "optimize_kernel").mkdir()
    (tmp_path / "extra" / "optimize_kernel" / "family.py").write_text("")
    (tmp_path / "a_file").write_text("")
    entries = [tmp_path / "missing", tmp_path / "a_file", tmp_path / "extra"]
    monkeypatch.setenv("RDBENCH_TASKS_PATH", ":".join(str(p) for p in entries))
    problems = loader.tasks_path_problems()
    assert problems == [
        f"RDBENCH_TASKS_PATH entry {tmp_path / 'missing'} does not exist: ignored",
        f"RDBENCH_TASKS_PATH entry {tmp_path / 'a_file'} is a file, not a folder: ignored",
        f"{tmp_path / 'extra' / 'not_a_family'} (on RDBENCH_TASKS_PATH) has no family.py: "
        "ignored",
        f"family optimize_kernel in {tmp_path / 'extra'} (RDBENCH_TASKS_PATH) is shadowed by "
        f"{loader.family_dirs()['optimize_kernel']}: ignored",
    ]
    with caplog.at_level("WARNING", logger="rdbench"):
        loader._said.clear()
        caplog.clear()
        loader.family_dirs()
        loader.family_dirs()  # said once per process
    assert [r.getMessage() for r in caplog.records] == [f"warning: {p}" for p in problems]


def test_reaper_takes_stale_scoring_folders_only(tmp_path):
    """Issue 21: rdbench-score-*/rdbench-kernel-* folders a kill -9 left in the temp dir."""
    import os
    import time

    from rdbench.sandbox.runtime import reap_stale_temp_dirs

    old = time.time() - 3600
    stale = [tmp_path / "rdbench-score-fam-abc", tmp_path / "rdbench-kernel-xyz"]
    busy = tmp_path / "rdbench-score-fam-busy"
    fresh = tmp_path / "rdbench-score-fam-new"
    other = tmp_path / "something-else"
    for path in [*stale, busy, fresh, other]:
        (path / "sub").mkdir(parents=True)
        (path / "sub" / "f").write_text("x")
    for path in [*stale, busy, other]:
        for p in (path / "sub" / "f", path / "sub", path):
            os.utime(p, (old, old))
    with open(busy / "sub" / "f") as _held:  # a process still uses it
        removed = reap_stale_temp_dirs(min_age_s=600, temp_dir=tmp_path)
    assert sorted(removed) == sorted(stale)
    assert not any(p.exists() for p in stale)
    assert busy.exists() and fresh.exists() and other.exists()


# -- issue 14: two scaffolds of one model into one log dir ---------------------------------------
def test_two_scaffolds_run_into_one_log_dir_and_the_records_keep_them_apart(
    tmp_path, monkeypatch
):
    """`--scaffold react,react-minimal`: one eval set, a task per (family, scaffold); the
    records give each attempt its scaffold and the family's task id, elicitation's
    configurations tell them apart, and the same command again resumes (runs nothing)."""
    from scripted_run import ScriptedModel

    from rdbench.records import read_eval_logs
    from rdbench.records.inspect_logs import list_log_files
    from rdbench.stats.elicitation import label_configurations

    monkeypatch.setenv("RDBENCH_TASKS_PATH", str(Path(__file__).parents[1] / "humans/fixtures"))
    calls = tmp_path / "calls.txt"
    plan = plan_run(model="mockllm/model", tasks="human_fixture", attempts=1,
                    attempt_length="5m", sandbox="local", scaffold="react,react-minimal",
                    agent_label="scripted")
    logs = execute_run(plan, log_dir=tmp_path / "logs", max_samples=1, display="none",
                       model_args={"custom_outputs": ScriptedModel(calls)})
    assert sorted(str(log.eval.task) for log in logs) == [
        "human_fixture@react-minimal-v1", "human_fixture@react-v1"]
    attempts, _, _ = read_eval_logs(list_log_files(tmp_path / "logs"))
    assert sorted(attempts["scaffold"]) == ["react-minimal-v1", "react-v1"]
    assert set(attempts["task_id"]) == {"human_fixture/main"}
    # the same scripted actions under both scaffolds: the same valid score
    assert attempts["score"].tolist() == [pytest.approx(0.7)] * 2
    assert label_configurations(attempts).nunique() == 2
    made = len(calls.read_text().splitlines())
    execute_run(plan, log_dir=tmp_path / "logs", max_samples=1, display="none",
                model_args={"custom_outputs": ScriptedModel(calls)})
    assert len(calls.read_text().splitlines()) == made  # resumed: nothing ran again


def test_a_scaffold_named_twice_is_one_clear_error():
    from rdbench.errors import UserError

    with pytest.raises(UserError, match="--scaffold names react twice"):
        plan_run(model="mockllm/model", tasks="optimize_kernel", sandbox="local",
                 scaffold="react,react", check_model_now=False)
    with pytest.raises(UserError, match="unknown scaffold 'nosuch'"):
        plan_run(model="mockllm/model", tasks="optimize_kernel", sandbox="local",
                 scaffold="react,nosuch", check_model_now=False)
