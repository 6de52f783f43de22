"""The time horizon from rdbench's own suite, end to end: does `rdbench horizon` recover a
known p50?

A scripted agent attempts every task of the chosen families in the real bwrap sandbox, k
times each (Inspect epochs). On each attempt it replays the task's reference solution with
probability sigma(a + b * log2(human minutes)), with a = -b * log2(true p50), and otherwise
leaves the starting state; the coin is seeded per (seed, task, epoch). The real scorers grade
the final workspaces, the logs go through the records reader (success by each task's own
threshold), and `rdbench horizon` fits the curve with its hierarchical bootstrap. The run
passes when the true p50 lies inside the recovered 95% CI and every attempt's success equals
its coin (the path loses or invents nothing). `rdbench report` then draws the curve.

    .venv/bin/python bench/suite_horizon.py     # every rdbench.families task + scaling_law
    .venv/bin/python bench/suite_horizon.py --quick               # a small subset (slow test)
    .venv/bin/python bench/suite_horizon.py --p50 30 --epochs 6 --slope -0.9

Writes bench/results/suite_horizon.json (or --out).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

from inspect_ai import eval as inspect_eval
from inspect_ai.model import ModelOutput
from inspect_ai.solver import Generate, Solver, TaskState, solver
from inspect_ai.util import sandbox, store

from rdbench.agents.replay import replay_steps
from rdbench.families._common import seed_for
from rdbench.tasks.inspect_adapter import family_task
from rdbench.tasks.loader import BUILTIN_FAMILIES_DIRS, load_families

RESULTS = Path(__file__).resolve().parent / "results"
COIN_KEY = "rdbench:scripted_replay"
#: The quick subset: no-jail and cheap jailed tasks spanning 2 to 40 minutes.
QUICK_TASKS = (
    "pick_checkpoint",
    "layer_shapes",
    "train_loop_bugs/zero_grad",
    "train_loop_bugs/leak",
    "implement_metric/fbeta_macro",
)
#: Old families cheap enough to include by default (scoring is a table lookup).
CHEAP_OLD = ("scaling_law",)


def success_probability(minutes: float, p50: float, slope: float) -> float:
    """Return sigma(a + slope * log2(minutes)) with a = -slope * log2(p50)."""
    z = slope * (math.log2(minutes) - math.log2(p50))
    return 1.0 / (1.0 + math.exp(-z))


@solver
def scripted_replay(p50: float, slope: float, seed: int) -> Solver:
    """Replay the reference with the logistic probability of the task's length, else nothing."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        minutes = float(state.metadata["human_minutes"])
        p = success_probability(minutes, p50, slope)
        coin = seed_for("suite_horizon", seed, str(state.sample_id), state.epoch) / 2**63
        replay = coin < p
        store().set(COIN_KEY, replay)
        if replay:
            for _, files in replay_steps(str(state.metadata["family"])):
                for rel, content in files.items():
                    await sandbox().write_file(rel, content)
        text = "Submitted the reference solution." if replay else "Left the starting state."
        state.output = ModelOutput.from_content("scripted", text)
        state.messages.append(state.output.message)
        return state

    return solve


def new_family_names() -> list[str]:
    """Return the families in the `rdbench.families` package (the new suite)."""
    base = BUILTIN_FAMILIES_DIRS[0]
    return sorted(p.name for p in base.iterdir() if (p / "family.py").is_file())


def select(selectors: list[str]) -> list[tuple]:
    """Return (family, [variants]) pairs for selectors `family` or `family/variant`."""
    chosen: dict[str, tuple] = {}
    for selector in selectors:
        name, _, variant = selector.partition("/")
        family = chosen.get(name, (load_families([name])[0], []))[0]
        variants = [v for v in family.variants() if not variant or v.name == variant]
        if not variants:
            raise SystemExit(f"no task {selector}")
        old = chosen.get(name, (family, []))[1]
        chosen[name] = (family, old + [v for v in variants if v not in old])
    return list(chosen.values())


def coins_from_logs(log_dir: Path) -> dict[str, bool]:
    """Return sample uuid -> whether the scripted agent replayed the reference."""
    from inspect_ai.log import list_eval_logs, read_eval_log

    out = {}
    for info in list_eval_logs(str(log_dir)):
        log = read_eval_log(info)
        for sample in log.samples or []:
            out[sample.uuid] = bool((sample.store or {}).get(COIN_KEY))
    return out


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rdbench.cli", *args],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--p50", type=float, default=30.0, help="true p50, minutes")
    parser.add_argument("--slope", type=float, default=-0.9, help="b, per doubling of minutes")
    parser.add_argument("--epochs", type=int, default=6, help="attempts per task (k)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--tasks",
        nargs="*",
        help="families or family/variant (default: the rdbench.families package)",
    )
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK_TASKS)}")
    parser.add_argument("--max-samples", type=int, default=3)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument(
        "--work",
        type=Path,
        default=Path("bench-output/suite_horizon"),
        help="logs and the report go here",
    )
    parser.add_argument("--report-bootstrap", type=int, default=200)
    parser.add_argument("--out", type=Path, default=RESULTS / "suite_horizon.json")
    args = parser.parse_args(argv)

    selectors = args.tasks or (
        list(QUICK_TASKS) if args.quick else new_family_names() + list(CHEAP_OLD)
    )
    chosen = select(selectors)
    agent = f"scripted (true p50 {args.p50:g} min)"
    log_dir = args.work / "logs"
    if log_dir.exists() and any(log_dir.iterdir()):
        raise SystemExit(f"{log_dir} is not empty: pass another --work")
    log_dir.mkdir(parents=True, exist_ok=True)
    tasks = [
        family_task(
            family,
            variants=variants,
            solver=scripted_replay(args.p50, args.slope, args.seed),
            epochs=args.epochs,
            metadata={"rdbench_agent": agent, "rdbench_scaffold": "scripted-replay"},
        )
        for family, variants in chosen
    ]
    start = time.perf_counter()
    logs = inspect_eval(
        tasks,
        model="none/none",
        log_dir=str(log_dir),
        display="none",
        max_samples=args.max_samples,
        max_tasks=2,
        fail_on_error=False,
    )
    eval_seconds = time.perf_counter() - start
    errors = [f"{log.eval.task}: {log.error.message}" for log in logs if log.status != "success"]

    from rdbench.records import load_attempts

    attempts, _, _ = load_attempts([log_dir])
    coins = coins_from_logs(log_dir)
    attempts["replayed"] = attempts["attempt_id"].map(coins)
    mismatched = attempts[attempts["replayed"] != attempts["success"]]

    horizon_json = args.work / "horizon.json"
    proc = run_cli(
        "horizon",
        str(log_dir),
        "--bootstrap",
        str(args.bootstrap),
        "--seed",
        str(args.seed),
        "--json",
        str(horizon_json),
    )
    if proc.returncode != 0:
        raise SystemExit(f"rdbench horizon failed: {proc.stderr.strip()}")
    row = next(a for a in json.loads(horizon_json.read_text())["agents"] if a["agent"] == agent)
    report = args.work / "report.html"
    rep = run_cli(
        "report",
        str(log_dir),
        "-o",
        str(report),
        "--bootstrap",
        str(max(10, args.report_bootstrap)),
        "--title",
        "suite horizon check",
    )
    html = report.read_text() if report.is_file() else ""
    wall = time.perf_counter() - start

    per_task = (
        attempts.groupby("task_id")
        .agg(
            human_minutes=("human_minutes", "first"),
            attempts=("success", "size"),
            successes=("success", "sum"),
        )
        .reset_index()
    )
    per_task["true_p"] = [
        success_probability(m, args.p50, args.slope) for m in per_task["human_minutes"]
    ]
    inside = row["p50_low"] is not None and row["p50_low"] <= args.p50 <= row["p50_high"]
    result = {
        "true_p50_minutes": args.p50,
        "slope_per_doubling": args.slope,
        "epochs": args.epochs,
        "seed": args.seed,
        "families": [f.name for f, _ in chosen],
        "tasks": len(per_task),
        "attempts": len(attempts),
        "recovered_p50_minutes": row["p50"],
        "p50_ci95": [row["p50_low"], row["p50_high"]],
        "recovered_p80_minutes": row["p80"],
        "true_p50_inside_ci": bool(inside),
        "success_equals_coin": bool(mismatched.empty),
        "mismatched_attempts": mismatched[["task_id", "score", "success", "replayed"]].to_dict(
            orient="records"
        ),
        "eval_errors": errors,
        "report_draws_curve": rep.returncode == 0 and agent in html and "<svg" in html,
        "eval_seconds": round(eval_seconds, 1),
        "wall_seconds": round(wall, 1),
        "cpu_count": os.cpu_count(),
        "per_task": per_task.to_dict(orient="records"),
        "command": "bench/suite_horizon.py " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, default=float) + "\n")
    ci = result["p50_ci95"]
    print(
        f"true p50 {args.p50:g} min; recovered {row['p50']:.1f} min, 95% CI "
        f"[{ci[0]:.1f}, {ci[1]:.1f}] -> {'inside' if inside else 'OUTSIDE'}; "
        f"{len(attempts)} attempts on {len(per_task)} tasks; success == coin: "
        f"{result['success_equals_coin']}; wall {wall:.0f} s; wrote {args.out}"
    )
    return result


if __name__ == "__main__":
    main()
