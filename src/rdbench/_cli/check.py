"""`rdbench check`: score each family's starting and reference solutions."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from rdbench.tasks import load_families, score_solution
from rdbench.tasks.contract import TaskFamily, TaskVariant
from rdbench.tasks.workspace import Solution

TOLERANCE = 0.05
#: Exit status when nothing failed but some timing could not be trusted (a busy machine).
EXIT_TIMING_UNRELIABLE = 3
#: What `rdbench check` advises after a timing it could not trust.
RETRY_ADVICE = "retry on a quieter machine"


def check_family(family: TaskFamily, repeat: int = 1, retries: int | None = None) -> list[dict]:
    """Score the starting and reference solutions of every variant of `family`.

    A timing-sensitive family's solution that scores outside the tolerance is measured
    again, `retries` times at most (default 1; never for other families): on a shared machine
    one slow stretch can inflate a two-threaded timing by 10% (see optimize_training's
    README), while wrong anchors fail every time. The row keeps the earlier measurements.

    A scoring whose timing the family could not trust (`TimingUnreliable`, the machine is
    too busy) is no verdict: it is measured again like an outlier, and if it stays
    unreliable the row says so (`timing_unreliable`) instead of failing.

    Returns:
        One dict per (variant, solution): raw scores, normalized scores, expected value,
        spread over repeats, seconds taken, `ok` (within 0.05 of expected, and a repeat
        spread under 0.05), `timing_unreliable` (the family's reason, or None), `details`
        (the family's measurements of the last scoring, or None), the anchors used and
        `earlier` (the normalized scores of measurements that were retried; None for a
        scoring whose timing was unreliable).
    """
    if not family.timing_sensitive:
        retries = 0  # a deterministic score does not change when measured again
    elif retries is None:
        retries = 1
    rows = []
    for variant in family.variants():
        solutions: tuple[tuple[Solution, float], ...] = (("starting", 0.0), ("reference", 1.0))
        for solution, expected in solutions:
            earlier: list[list[float | None]] = []
            while True:
                row = _measure(family, variant, solution, expected, repeat)
                if solution == "reference":
                    _judge_threshold(row, variant)
                retry = not row["ok"] and (row["valid"] or row["timing_unreliable"])
                if not retry or len(earlier) >= retries:
                    break
                earlier.append(row["normalized"])
            row["earlier"] = earlier
            rows.append(row)
    return rows


def _measure(family: TaskFamily, variant: TaskVariant, solution: Solution, expected: float,
             repeat: int) -> dict:
    scores, raws, messages = [], [], []
    unreliable: str | None = None
    details = None
    start = time.perf_counter()
    for _ in range(repeat):
        result = score_solution(family, variant, solution)
        messages.append(result.message)
        raws.append(result.raw)
        scores.append(result.normalized)
        unreliable = unreliable or result.timing_unreliable
        details = result.details
    seconds = (time.perf_counter() - start) / repeat
    valid = all(s is not None for s in scores)
    spread = (max(scores) - min(scores)) if valid else None
    ok = valid and all(abs(s - expected) <= TOLERANCE for s in scores)
    ok = ok and (spread is None or spread < TOLERANCE)
    return {
        "task_id": variant.task_id,
        "solution": solution,
        "expected": expected,
        "raw": raws,
        "normalized": scores,
        "spread": spread,
        "seconds": round(seconds, 2),
        "valid": valid,
        "ok": ok,
        "timing_unreliable": unreliable,
        "details": details,
        "anchors": variant.normalization.anchors,
        "message": messages[-1],
    }


def _judge_threshold(row: dict, variant: TaskVariant) -> None:
    """Fail a reference row whose score does not reach its task's success threshold.

    Within the check's tolerance: a continuous task whose threshold is the reference's own
    score (1.0) must not fail on the measurement noise `check` already allows."""
    scores = [s for s in row["normalized"] if s is not None]
    if row["valid"] and scores and min(scores) < variant.success_threshold - TOLERANCE:
        row["ok"] = False
        row["message"] = (f"task {variant.task_id}: its reference scores {min(scores):.3f}, "
                          f"below its success threshold {variant.success_threshold:g}")
        row["below_threshold"] = True


def calibration_hint(families: list[TaskFamily], rows: list[dict]) -> str | None:
    """Return advice when a timing-sensitive family on its shipped anchors failed `rows`
    (likely other hardware than the reference machine), else None."""
    failed = {row["task_id"].split("/")[0] for row in rows
              if not row["ok"] and not row.get("timing_unreliable")}
    names = [f.name for f in families if f.name in failed and f.timing_sensitive
             and f.active_normalization().anchors == "shipped"]
    if not names:
        return None
    return (f"{', '.join(names)}: timings use the anchors of the reference machine; on other "
            "hardware run `rdbench calibrate` (when the machine is quiet), then check again")


@click.command("check")
@click.argument("families", nargs=-1)
@click.option("--quick", is_flag=True, help="Only the families marked quick (default: all).")
@click.option("--repeat", default=1, show_default=True, help="Score each solution N times.")
@click.option("--retries", type=int, default=None,
              help="Measure a timing-sensitive family's out-of-tolerance or unreliably timed "
                   "solution again up to N times (default 1; other families are never retried).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the results as JSON to this file.")
def check(families: tuple[str, ...], quick: bool, repeat: int, retries: int | None,
          json_out: Path | None) -> None:
    """Score the starting and reference solutions through the real scorer (in the jail).

    Exit status: 0 when every starting solution scores 0 +/- 0.05 and every reference
    1 +/- 0.05 (and, with --repeat, repeated scores differ by less than 0.05); 1 when any
    fails; 3 when none fails but a timing-sensitive family could not trust its own timing
    (the machine was too busy: "timing unreliable: ... - retry on a quieter machine"; such
    a solution is measured again first, see --retries). A timing-sensitive family that
    scores a ratio to a yardstick timed in the same run (optimize_kernel) keeps its anchors
    through the machine's speed and load; a calibration (`rdbench calibrate`) replaces
    them where one was measured.
    """
    if repeat < 1:
        raise click.BadParameter("must be at least 1", param_hint="--repeat")
    if retries is not None and retries < 0:
        raise click.BadParameter("must be 0 or more", param_hint="--retries")
    console = Console(stderr=True)
    loaded = [f for f in load_families(list(families)) if f.quick or not quick]
    rows: list[dict] = []
    for family in loaded:
        with console.status(f"checking {family.name} (scoring starting and reference)..."):
            family.prepare()
            rows.extend(check_family(family, repeat, retries))
    table = Table(title="rdbench check", title_justify="left", min_width=100)
    for column in ("task", "solution", "raw", "normalized", "expected", "seconds", "result"):
        table.add_column(column)
    for row in rows:
        normalized = ", ".join("invalid" if s is None else f"{s:.3f}" for s in row["normalized"])
        raw = ", ".join("-" if r is None else f"{r:.4g}" for r in row["raw"])
        if row["ok"]:
            verdict = "[green]ok[/green]"
        elif row["timing_unreliable"]:
            verdict = f"[yellow]{row['timing_unreliable']} — {RETRY_ADVICE}[/yellow]"
        elif any(s is None for s in row["normalized"]) or row.get("below_threshold"):
            verdict = f"[red]FAIL[/red] {row['message']}"
        else:
            verdict = "[red]FAIL[/red] outside tolerance"
        for scores in row["earlier"]:
            earlier = ", ".join("unreliable" if s is None else f"{s:.3f}" for s in scores)
            verdict += f" [yellow](retried after {earlier})[/yellow]"
        table.add_row(row["task_id"], row["solution"], raw, normalized,
                      f"{row['expected']:g} ± {TOLERANCE}", f"{row['seconds']:.1f}", verdict)
    Console().print(table)
    for family in loaded:
        if family.timing_sensitive:
            anchors = family.active_normalization().anchors
            console.print(f"{family.name} times solutions; its anchors: {anchors}")
    if json_out is not None:
        json_out.write_text(json.dumps(rows, indent=2))
    hint = calibration_hint(loaded, rows)
    if hint:
        console.print(hint)
    raise SystemExit(exit_status(rows))


def exit_status(rows: list[dict]) -> int:
    """Return `rdbench check`'s exit status for `rows`: 0 all ok, 1 a failure, 3 no failure
    but a timing that could not be trusted (`EXIT_TIMING_UNRELIABLE`)."""
    if any(not row["ok"] and not row.get("timing_unreliable") for row in rows):
        return 1
    return EXIT_TIMING_UNRELIABLE if any(not row["ok"] for row in rows) else 0
