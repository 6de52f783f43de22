"""Real Inspect .eval logs in rdbench's format (docs/log-format.md), made offline with
mockllm, shared by the records tests."""

from __future__ import annotations

import math
from pathlib import Path

import pytest


def _make_logs(log_dir: Path) -> dict[str, Path]:
    from inspect_ai import Task
    from inspect_ai import eval as inspect_eval
    from inspect_ai.dataset import Sample
    from inspect_ai.model import ModelOutput, ModelUsage, get_model
    from inspect_ai.scorer import Score, mean, scorer
    from inspect_ai.scorer import score as score_now
    from inspect_ai.solver import solver

    @scorer(metrics=[mean()], name="rdbench_scorer")
    def rdbench_scorer():
        async def run(state, target):
            final = state.store.get("final")
            if final is None:  # an intermediate `score` call
                value = state.store.get("interim")
                return Score(value=value, metadata={"raw": value * 10})
            value, trajectory = final
            meta = {
                "raw": None if math.isnan(value) else value * 10,
                "normalized": None if math.isnan(value) else value,
                "final_score_policy": "best",
                "submission_raw": None,
                "submission_normalized": None,
            }
            if trajectory is not None:
                meta["trajectory"] = trajectory
            return Score(value=value, answer="valid", metadata=meta)

        return run

    @solver
    def scripted(value: float, trajectory, interim: list[float]):
        async def solve(state, generate):
            state = await generate(state)
            for v in interim:
                state.store.set("interim", v)
                await score_now(state)
            state.store.set("final", (value, trajectory))
            return state

        return solve

    def sample(family: str, minutes: float) -> Sample:
        return Sample(
            id=f"{family}/main",
            input="do the task",
            metadata={
                "family": family,
                "task_id": f"{family}/main",
                "human_minutes": minutes,
                "time_limit_s": 1800,
                "final_score_policy": "best",
                "normalization": {"start": 0, "reference": 1, "transform": "linear",
                                  "direction": "higher"},
            },
        )

    output = ModelOutput.from_content("mockllm/model", "ok").model_copy(
        update={"usage": ModelUsage(input_tokens=5, output_tokens=7, total_tokens=12)}
    )
    model = get_model("mockllm/model", custom_outputs=[output] * 20)
    trajectory = [
        {"working_s": 60.0, "raw": 3.0, "score": 0.3, "valid": True},
        {"working_s": 120.0, "raw": None, "score": None, "valid": False},
        {"working_s": 600.0, "raw": 8.0, "score": 0.8, "valid": True},
    ]
    agent_task = Task(
        dataset=[sample("fam_a", 120.0), sample("fam_b", 30.0)],
        solver=scripted(0.8, trajectory, [0.3]),
        scorer=rdbench_scorer(),
    )
    (agent_log,) = inspect_eval(
        agent_task, model=model, log_dir=str(log_dir / "agents"), epochs=2, display="none",
        metadata={"rdbench_agent": "react", "rdbench_scaffold": "react-v1",
                  "rdbench_is_human": False, "rdbench_attempt_length_s": 1800},
    )
    # The human log has no trajectory in the final metadata: the reader falls back to
    # the intermediate ScoreEvents.
    human_task = Task(
        dataset=[sample("fam_a", 120.0)],
        solver=scripted(0.9, None, [0.2, 0.5]),
        scorer=rdbench_scorer(),
    )
    (human_log,) = inspect_eval(
        human_task, model=model, log_dir=str(log_dir / "humans"), display="none",
        metadata={"rdbench_agent": "human", "rdbench_scaffold": "human",
                  "rdbench_is_human": True, "rdbench_baseliner": "alice",
                  "rdbench_attempt_length_s": 28800},
    )
    return {"agent": Path(agent_log.location), "human": Path(human_log.location)}


@pytest.fixture(scope="session")
def eval_logs(tmp_path_factory) -> dict[str, Path]:
    """Paths of an agent log (2 tasks x 2 epochs) and a human log (1 attempt)."""
    return _make_logs(tmp_path_factory.mktemp("eval-logs"))
