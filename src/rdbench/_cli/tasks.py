"""`rdbench tasks`: list the task families and their tasks, and how they spread over time."""

from __future__ import annotations

import json
import math

import click
from rich.console import Console
from rich.table import Table

from rdbench.durations import format_duration
from rdbench.errors import UserError
from rdbench.tasks import load_families

#: Bins of expert-human minutes, [low, high): the time axis the horizon fit leans on.
TIME_BINS: tuple[tuple[str, float, float], ...] = (
    ("under 1 min", 0.0, 1.0),
    ("1-4 min", 1.0, 4.0),
    ("4-15 min", 4.0, 15.0),
    ("15-60 min", 15.0, 60.0),
    ("1-4 h", 60.0, 240.0),
    ("4-16 h", 240.0, 960.0),
    ("over 16 h", 960.0, math.inf),
)
#: A task whose scoring may take longer than this says so.
SLOW_SCORING_S = 60.0


#: Below this console width the table leaves out resources, scoring and the summary
#: (`rdbench tasks --json` has them all), so that no task id is ever cut.
NARROW_WIDTH = 120


def time_bin(minutes: float) -> str:
    """Return the label of the `TIME_BINS` bin holding `minutes`."""
    for label, low, high in TIME_BINS:
        if low <= minutes < high:
            return label
    return TIME_BINS[-1][0]


def bin_counts(rows: list[dict]) -> list[dict]:
    """Return, per time bin in order, how many tasks and which families fall in it."""
    out = []
    for label, low, high in TIME_BINS:
        inside = [r for r in rows if time_bin(r["human_minutes"]) == label]
        out.append(
            {
                "bin": label,
                "low_minutes": low,
                "high_minutes": high,
                "tasks": len(inside),
                "families": sorted({r["task_id"].split("/")[0] for r in inside}),
            }
        )
    return out


def scoring_note(family) -> dict:
    """Return how long one scoring of `family` takes: a declared `scoring_seconds`, else
    the `quick` flag (quick = well under a minute)."""
    declared = getattr(family, "scoring_seconds", None)
    if isinstance(declared, (int, float)) and declared > 0:
        return {"seconds": float(declared), "over_60s": float(declared) > SLOW_SCORING_S}
    return {"seconds": None, "over_60s": not family.quick}


def task_rows(families) -> list[dict]:
    """Return one JSON-ready row per task of `families`."""
    rows = []
    for family in families:
        scoring = scoring_note(family)
        for variant in family.variants():
            rows.append(
                {
                    "task_id": variant.task_id,
                    "summary": family.summary,
                    "human_minutes": variant.human_minutes,
                    "human_minutes_source": variant.human_minutes_source,
                    "success_threshold": variant.success_threshold,
                    "time_bin": time_bin(variant.human_minutes),
                    "time_limit_s": variant.time_limit_s,
                    "resources": family.resources.describe(),
                    "score_visible": family.score_visible,
                    "final_score_policy": family.final_score_policy,
                    "quick_check": family.quick,
                    "scoring_seconds": scoring["seconds"],
                    "scoring_over_60s": scoring["over_60s"],
                }
            )
    return rows


def load_baselines(logs: tuple[str, ...] | list[str]):
    """Return the baselined-minutes table (`stats.human_times.baselined_minutes`) of the
    human attempts in `logs`.

    Raises:
        UserError: a log cannot be read, or the logs hold no human attempt.
    """
    from rdbench.records import load_attempts
    from rdbench.stats.human_times import baselined_minutes

    attempts, _, _ = load_attempts(list(logs))
    if not len(attempts) or not attempts["is_human"].astype(bool).any():
        raise UserError(
            f"no human baseline attempts in {', '.join(logs)} (record them with `rdbench baseline`)"
        )
    return baselined_minutes(attempts)


def add_human_times(rows: list[dict], logs: tuple[str, ...]) -> None:
    """Add `baselines`, `successful_baselines` and `baselined_minutes` (geometric mean of
    the successful baseliners' working minutes, None when none) to each row.

    Raises:
        UserError: a log cannot be read (RecordsError is a UserError).
    """
    by_task = {r.task_id: r for r in load_baselines(logs).itertuples()}
    for row in rows:
        hit = by_task.get(row["task_id"])
        row["baselines"] = int(hit.baselines) if hit is not None else 0
        row["successful_baselines"] = int(hit.successful) if hit is not None else 0
        value = float(hit.baselined_minutes) if hit is not None else math.nan
        row["baselined_minutes"] = value if math.isfinite(value) else None


@click.command("tasks")
@click.argument("families", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON instead of a table.")
@click.option(
    "--human-times",
    "human_times",
    multiple=True,
    metavar="LOGS",
    help="Human baseline logs (repeatable): show each task's estimate beside its "
    "baselined time (geometric mean of successful baseliners' working times).",
)
@click.option("--traps", "traps", default=None, metavar="CLASS[,CLASS]|all",
              help="List the trap variants of these classes instead (trap_class, vector, goal).")
def tasks(families: tuple[str, ...], as_json: bool, human_times: tuple[str, ...],
          traps: str | None = None) -> None:
    """List task families and their tasks: human minutes (and their source), success
    threshold, budget, resources; then how many tasks fall in each band of human time.

    FAMILIES restricts the list (default: all families, built-in and those on
    RDBENCH_TASKS_PATH; with --traps, the families that have trap variants).
    """
    if traps is not None:
        from rdbench._cli.traps import print_trap_tasks

        print_trap_tasks(list(families), traps, as_json)
        return
    rows = task_rows(load_families(list(families)))
    if human_times:
        add_human_times(rows, human_times)
    bins = bin_counts(rows)
    if as_json:
        # a list of task rows, as before; each row names its time bin
        click.echo(json.dumps(rows, indent=2))
        return
    console = Console()
    if not console.is_terminal:  # a pipe: as wide as the table wants, up to 160 columns
        console = Console(width=160)
    narrow = console.width < NARROW_WIDTH
    # The task id is what a user types next: never cut it. The other columns wrap.
    width = max([len(row["task_id"]) for row in rows] + [4])
    table = Table(title="rdbench tasks", title_justify="left")
    table.add_column("task", no_wrap=True, min_width=width)
    for column in ("human time", "source"):
        table.add_column(column, no_wrap=True)
    if human_times:
        table.add_column("baselined", no_wrap=True)
    for column in ("success at", "budget"):
        table.add_column(column, no_wrap=True)
    if not narrow:
        for column in ("resources", "score", "what it is"):
            table.add_column(column, overflow="fold")
    for row in rows:
        cells = [row["task_id"], format_duration(row["human_minutes"] * 60), row["human_minutes_source"]]
        if human_times:
            base = row["baselined_minutes"]
            cells.append(
                f"{format_duration(base * 60)} ({row['successful_baselines']}/{row['baselines']})"
                if base is not None
                else f"- ({row['successful_baselines']}/{row['baselines']})"
            )
        policy = row["final_score_policy"] + ("" if row["score_visible"] else ", hidden")
        if row["scoring_over_60s"]:
            policy += ", scoring > 60 s"
        cells += [f"{row['success_threshold']:g}", format_duration(row["time_limit_s"])]
        if not narrow:
            cells += [row["resources"], policy, row["summary"]]
        table.add_row(*cells)
    console.print(table)
    if narrow:
        console.print(f"(resources, scoring and summaries: a window of {NARROW_WIDTH}+ "
                      "columns, or --json)")
    summary = Table(title="tasks per band of human time", title_justify="left")
    for column in ("human time", "tasks", "families"):
        summary.add_column(column)
    for b in bins:
        summary.add_row(b["bin"], str(b["tasks"]), ", ".join(b["families"]) or "-")
    console.print(summary)
    slow = [r["task_id"] for r in rows if r["scoring_over_60s"]]
    if slow:
        console.print(f"scoring takes over 60 s: {', '.join(slow)}")
    estimates = sum(1 for r in rows if r["human_minutes_source"] != "baseline")
    line = f"{len(rows)} tasks; {estimates} rest on estimated human minutes"
    if human_times:
        baselined = sum(1 for r in rows if r["baselined_minutes"] is not None)
        line += f"; {baselined} have a successful baseline in the given logs"
    console.print(line)
