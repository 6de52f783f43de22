"""Small hand-made Attempt/trajectory tables and real rdbench .eval logs for the report
tests (fixtures in conftest.py). Everything seeded and offline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rdbench.records import coerce_attempts, coerce_trajectories


def synthetic_rdbench(
    seed: int = 0, source: str = "synthetic"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two agents (30 min and 2 h attempts) and humans (8 h) on four tasks, each attempt
    with a rising score trajectory. Returns ``(attempts, trajectories)``."""
    rng = np.random.default_rng(seed)
    rows, traj = [], []
    tasks = [
        ("fam_a", "fam_a/t1", 60.0),
        ("fam_a", "fam_a/t2", 240.0),
        ("fam_b", "fam_b/t1", 480.0),
        ("fam_c", "fam_c/t1", 900.0),
    ]
    plans = [
        ("agent-x", False, 1800.0, 6),
        ("agent-x", False, 7200.0, 3),
        ("agent-y", False, 1800.0, 6),
        ("human", True, 28800.0, 2),
    ]
    skill = {"agent-x": 0.5, "agent-y": 0.3, "human": 0.9}
    for family, task, minutes in tasks:
        for agent, is_human, limit, n in plans:
            for i in range(n):
                aid = f"{agent}-{task}-{int(limit)}-{i}"
                final = float(
                    np.clip(skill[agent] * (limit / 7200) ** 0.3 + rng.normal(0, 0.15), -0.2, 1.3)
                )
                times = np.sort(rng.uniform(0, limit, size=4))
                scores = np.maximum.accumulate(
                    final * np.linspace(0.2, 1.0, 4) + rng.normal(0, 0.05, 4)
                )
                for t, s in zip(times, scores):
                    traj.append(
                        {
                            "attempt_id": aid,
                            "working_s": float(t),
                            "score": float(s),
                            "score_raw": float(s),
                        }
                    )
                rows.append(
                    {
                        "attempt_id": aid,
                        "source": source,
                        "agent": agent,
                        "model": agent,
                        "scaffold": "human" if is_human else "react-v1",
                        "is_human": is_human,
                        "task_family": family,
                        "task_id": task,
                        "human_minutes": minutes,
                        "time_limit_s": limit,
                        "working_time_s": limit,
                        "score_raw": final,
                        "score": max(final, float(scores.max())),
                        "success": final >= 0.8,
                        "tokens": 1000.0,
                        "cost_usd": 0.1,
                    }
                )
    return coerce_attempts(pd.DataFrame(rows)), coerce_trajectories(pd.DataFrame(traj))


def make_eval_logs(log_dir: Path) -> list[Path]:
    """Real Inspect logs in rdbench's format (docs/log-format.md), made with mockllm:
    one agent log (2 tasks x 2 epochs, with trajectories). Returns the log paths."""
    from inspect_ai import Task
    from inspect_ai import eval as inspect_eval
    from inspect_ai.dataset import Sample
    from inspect_ai.model import ModelOutput, ModelUsage, get_model
    from inspect_ai.scorer import Score, mean, scorer
    from inspect_ai.solver import solver

    trajectory = [
        {"working_s": 60.0, "raw": 3.0, "score": 0.3, "valid": True},
        {"working_s": 600.0, "raw": 8.0, "score": 0.8, "valid": True},
    ]

    @scorer(metrics=[mean()], name="rdbench_scorer")
    def rdbench_scorer():
        async def run(state, target):
            meta = {
                "raw": 8.0,
                "normalized": 0.8,
                "final_score_policy": "best",
                "submission_raw": None,
                "submission_normalized": None,
                "trajectory": trajectory,
            }
            return Score(value=0.8, answer="valid", metadata=meta)

        return run

    @solver
    def one_turn():
        async def solve(state, generate):
            return await generate(state)

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
                "normalization": {
                    "start": 0,
                    "reference": 1,
                    "transform": "linear",
                    "direction": "higher",
                },
            },
        )

    output = ModelOutput.from_content("mockllm/model", "ok").model_copy(
        update={"usage": ModelUsage(input_tokens=5, output_tokens=7, total_tokens=12)}
    )
    model = get_model("mockllm/model", custom_outputs=[output] * 10)
    task = Task(
        dataset=[sample("log_fam_a", 120.0), sample("log_fam_b", 30.0)],
        solver=one_turn(),
        scorer=rdbench_scorer(),
    )
    (log,) = inspect_eval(
        task,
        model=model,
        log_dir=str(log_dir),
        epochs=2,
        display="none",
        metadata={
            "rdbench_agent": "react",
            "rdbench_scaffold": "react-v1",
            "rdbench_is_human": False,
            "rdbench_attempt_length_s": 1800,
        },
    )
    return [Path(log.location)]
