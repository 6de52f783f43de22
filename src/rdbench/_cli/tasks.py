"""`rdbench tasks`: list the task families and their tasks."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from rdbench.tasks import load_families


def _duration(seconds: float) -> str:
    hours = seconds / 3600
    return f"{hours:g}h" if hours >= 1 else f"{seconds / 60:g}m"


@click.command("tasks")
@click.argument("families", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON instead of a table.")
def tasks(families: tuple[str, ...], as_json: bool) -> None:
    """List task families and their tasks: human minutes, budget, resources.

    FAMILIES restricts the list (default: all families, built-in and those on
    RDBENCH_TASKS_PATH).
    """
    loaded = load_families(list(families))
    rows = []
    for family in loaded:
        for variant in family.variants():
            rows.append(
                {
                    "task_id": variant.task_id,
                    "summary": family.summary,
                    "human_minutes": variant.human_minutes,
                    "time_limit_s": variant.time_limit_s,
                    "resources": family.resources.describe(),
                    "score_visible": family.score_visible,
                    "final_score_policy": family.final_score_policy,
                    "quick_check": family.quick,
                }
            )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    # The task id is what a user types next: never cut it. The other columns wrap.
    width = max([len(row["task_id"]) for row in rows] + [4])
    table = Table(title="rdbench tasks", title_justify="left")
    table.add_column("task", no_wrap=True, min_width=width)
    for column in ("human time", "budget"):
        table.add_column(column, no_wrap=True)
    for column in ("resources", "score", "what it is"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            row["task_id"],
            _duration(row["human_minutes"] * 60),
            _duration(row["time_limit_s"]),
            row["resources"],
            row["final_score_policy"] + ("" if row["score_visible"] else ", hidden"),
            row["summary"],
        )
    console = Console()
    if not console.is_terminal:  # a pipe: as wide as the table wants, up to 160 columns
        console = Console(width=160)
    console.print(table)
