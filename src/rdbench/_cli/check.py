"""`rdbench check`: score each family's starting and reference solutions."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from rdbench.tasks import load_families, score_solution
from rdbench.tasks.contract import TaskFamily, TaskVariant
from rdbench.tasks.workspace import Solution

#: More measurements of a timing-sensitive family's solution that failed its first; the
#: verdict is then the median of all of them.
DEFAULT_TIMING_RETRIES = 2
#: Exit status when nothing failed but some timing could not be trusted (a busy machine).
EXIT_TIMING_UNRELIABLE = 3
#: What `rdbench check` advises after a timing it could not trust.
RETRY_ADVICE = "retry on a quieter machine"


def check_family(family: TaskFamily, repeat: int = 1, retries: int | None = None) -> list[dict]:
    """Score the starting and reference solutions of every variant of `family`.

    A timing-sensitive family's solution that scores outside the tolerance, or whose timing
    the family could not trust, is measured `retries` more times (default 2; never for
    other families), and then judged on the median of all its valid scores: on a shared
    machine one slow stretch can move one timing by 0.05 or more (see the timing families'
    READMEs), while wrong anchors move the median too. The row keeps the earlier
    measurements.

    A scoring whose timing the family could not trust (`TimingUnreliable`, the machine is
    too busy) is no verdict: it counts as a measurement but not in the median, and if no
    measurement could be trusted the row says so (`timing_unreliable`) instead of failing.

    Returns:
        One dict per (variant, solution): raw scores, normalized scores, expected value,
        spread over repeats, seconds taken, `tolerance` (the family's `check_tolerance`,
        0.05 unless it declares another), `ok` (within the tolerance of expected, and a
        repeat spread under it; after retries: the median within it), `timing_unreliable` (the
        family's reason, or None), `details` (the family's measurements of the last
        scoring, or None), the anchors used, `earlier` (the normalized scores of the
        measurements before the last; None for a scoring whose timing was unreliable) and
        `median` (the median the verdict rests on, when measured more than once).
    """
    if not family.timing_sensitive:
        retries = 0  # a deterministic score does not change when measured again
    elif retries is None:
        retries = DEFAULT_TIMING_RETRIES
    rows = []
    for variant in family.variants():
        solutions: tuple[tuple[Solution, float], ...] = (("starting", 0.0), ("reference", 1.0))
        for solution, expected in solutions:
            history = [_measure(family, variant, solution, expected, repeat)]
            if solution == "reference":
                _judge_threshold(history[0], variant)
            first = history[0]
            if not first["ok"] and (first["valid"] or first["timing_unreliable"]):
                while len(history) <= retries and (history[-1]["valid"]
                                                   or history[-1]["timing_unreliable"]):
                    history.append(_measure(family, variant, solution, expected, repeat))
            row = history[-1]
            row["earlier"] = [earlier["normalized"] for earlier in history[:-1]]
            if len(history) > 1 and (row["valid"] or row["timing_unreliable"]):
                _judge_on_median(row, history, variant)
            rows.append(row)
    return rows


def _judge_on_median(row: dict, history: list[dict], variant: TaskVariant) -> None:
    """Set `row`'s verdict from the median of every valid score in `history` (the
    measurements of one solution, `row` the last)."""
    scores = [s for measured in history for s in measured["normalized"] if s is not None]
    if not scores:
        return  # nothing could be timed: the row stays timing_unreliable
    median = statistics.median(scores)
    row["median"] = median
    row["ok"] = abs(median - row["expected"]) <= row["tolerance"]
    row["timing_unreliable"] = None  # some timing was trusted: the median is the verdict
    row.pop("below_threshold", None)
    if row["solution"] == "reference":
        _judge_threshold(row, variant, median, "(median)")


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
    tolerance = family.check_tolerance
    ok = valid and all(abs(s - expected) <= tolerance for s in scores)
    ok = ok and (spread is None or spread < tolerance)
    return {
        "task_id": variant.task_id,
        "solution": solution,
        "expected": expected,
        "tolerance": family.check_tolerance,
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


def _judge_threshold(row: dict, variant: TaskVariant, score: float | None = None,
                     how: str = "") -> None:
    """Fail a reference row whose score (`score`, by default the lowest of the row's valid
    scores; `how` says which it is in the message) does not reach its task's success
    threshold.

    Within the check's tolerance: a continuous task whose threshold is the reference's own
    score (1.0) must not fail on the measurement noise `check` already allows."""
    if score is None:
        scores = [s for s in row["normalized"] if s is not None]
        if not (row["valid"] and scores):
            return
        score = min(scores)
    if score < variant.success_threshold - row["tolerance"]:
        row["ok"] = False
        row["message"] = (f"task {variant.task_id}: its reference scores {score:.3f}"
                          f"{' ' + how if how else ''}, below its success threshold "
                          f"{variant.success_threshold:g}")
        row["below_threshold"] = True


def calibration_hint(families: list[TaskFamily], rows: list[dict]) -> str | None:
    """Return advice when a timing-sensitive family on its shipped anchors failed `rows`
    (likely other hardware than the reference machine), else None."""
    failed = {row["task_id"].split("/")[0] for row in rows
              if not row["ok"] and not row.get("timing_unreliable")}
    names = [f.name for f in families if f.name in failed and f.timing_sensitive
             and not f.self_calibrating and f.active_normalization().anchors == "shipped"]
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
                   "solution N more times and judge the median (default 2; other families "
                   "are never retried).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the results as JSON to this file.")
def check(families: tuple[str, ...], quick: bool, repeat: int, retries: int | None,
          json_out: Path | None) -> None:
    """Score the starting and reference solutions through the real scorer (in the jail).

    Exit status: 0 when every starting solution scores 0 +/- 0.05 and every reference
    1 +/- 0.05 (and, with --repeat, repeated scores differ by less than 0.05; a family
    whose timing is less reproducible declares a wider tolerance: optimize_training 0.10,
    shown in the "expected" column); 1 when any
    fails; 3 when none fails but a timing-sensitive family could not trust its own timing
    (the machine was too busy: "timing unreliable: ... - retry on a quieter machine"; such
    a solution is measured again first, see --retries: a timing that failed once is
    measured twice more and judged on the median). optimize_kernel times both ends of its
    scale in every scoring, so its anchors hold on any machine; optimize_training's are
    ratios to a yardstick, which a calibration (`rdbench calibrate`) can replace.
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
        if row["earlier"]:
            earlier = ", ".join("unreliable" if s is None else f"{s:.3f}"
                                for scores in row["earlier"] for s in scores)
            median = row.get("median")
            verdict += f" [yellow](measured after {earlier}"
            verdict += ")[/yellow]" if median is None else f"; median {median:.3f})[/yellow]"
        table.add_row(row["task_id"], row["solution"], raw, normalized,
                      f"{row['expected']:g} ± {row['tolerance']:g}", f"{row['seconds']:.1f}", verdict)
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
