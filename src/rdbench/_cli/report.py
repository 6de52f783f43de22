"""`rdbench report`: rdbench logs and/or METR runs -> one self-contained HTML page."""

from __future__ import annotations

from pathlib import Path

import click

from rdbench.errors import UserError


def is_rdbench_report(path: Path) -> bool:
    """Return True when ``path`` is an HTML page rdbench's report wrote (may be replaced)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return head.startswith(b"<!DOCTYPE html>") and b'<meta name="generator" content="rdbench' in head


@click.command("report")
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False),
    default="report.html",
    show_default=True,
    help="HTML file to write.",
)
@click.option(
    "--release-dates",
    type=click.Path(dir_okay=False),
    help="YAML (alias -> date) or CSV (agent, release_date) for the trend. "
    "Default: the shipped file when the public METR data is an input.",
)
@click.option(
    "--threshold",
    default="8h",
    show_default=True,
    help="Horizon whose crossing date is forecast (30m, 8h, 1d; bare number = minutes).",
)
@click.option("--skip-bad", is_flag=True, help="Skip unreadable logs and bad JSON lines (counted).")
@click.option(
    "--bootstrap",
    "n_bootstrap",
    # At least 10: every figure draws intervals, and the trend needs bootstrap fits.
    type=click.IntRange(min=10),
    default=1000,
    show_default=True,
    help="Bootstrap samples for every interval (at least 10).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@click.option("--title", default="rdbench report", show_default=True, help="Page title.")
@click.option("--force", is_flag=True,
              help="Replace an existing file at -o even if it is not an rdbench report.")
@click.option("--crosscheck", "crosscheck_logs", multiple=True, metavar="DIR",
              help="Add the cross-provider verification section from a `rdbench crosscheck` "
                   "log dir (repeatable).")
@click.option("--human-times", "human_times", multiple=True, metavar="LOGS",
              help="Human-baseline logs: tasks with successful baselines use their baselined "
              "time (geometric mean) instead of the estimate; the report says how many rest on "
              "estimates. Repeatable.")
def report(
    inputs: tuple[str, ...],
    output: str,
    release_dates: str | None,
    threshold: str,
    skip_bad: bool,
    n_bootstrap: int,
    seed: int,
    title: str,
    force: bool,
    human_times: tuple[str, ...] = (),
    crosscheck_logs: tuple[str, ...] = (),
) -> None:
    """Write the HTML report for INPUTS: directories of Inspect logs, .eval files, METR
    runs.jsonl, attempts.parquet, or `metr` for the shipped public METR data.

    \b
    Example:
      rdbench report logs/ metr -o report.html --threshold 8h
    """
    from rdbench.durations import parse_duration
    from rdbench.outputs import check_output_path
    from rdbench.records import load_attempts, resolve_inputs

    threshold_minutes = parse_duration(threshold) / 60
    read = [path for _, path in resolve_inputs(inputs)]
    if release_dates is not None:
        read.append(Path(release_dates))
    out = check_output_path(
        output, inputs=[*inputs, *read, *crosscheck_logs], replaceable=is_rdbench_report,
        force=force,
        what="report",
    )
    attempts, trajectories, skipped = load_attempts(list(inputs), skip_bad=skip_bad)
    if skipped:
        click.secho(f"warning: skipped {skipped} bad input(s) (--skip-bad)", fg="yellow", err=True)
    if attempts.empty:
        raise UserError(f"no attempts found in {', '.join(inputs)}")
    if human_times:
        from rdbench._cli.tasks import load_baselines
        from rdbench.stats.human_times import apply_human_times

        attempts = apply_human_times(attempts, load_baselines(human_times))
    answers = None
    if crosscheck_logs:
        from rdbench.crosscheck.analysis import read_crosscheck_logs

        answers = read_crosscheck_logs(list(crosscheck_logs))
    from rdbench._cli._shared import release_dates_for

    dates = release_dates_for(release_dates, attempts)

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from rdbench.report.build import write_report

    steps = [
        "best-of-k against budget",
        "trajectories",
        "time horizons and trend",
        "elicitation gap",
        "tables",
        *(["crosscheck"] if answers is not None else []),
        "writing the page",
    ]
    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("report", total=len(steps))

        def advance(label: str) -> None:
            done = steps.index(label) if label in steps else 0
            bar.update(task, completed=done, description=f"report: {label}")

        path = write_report(
            attempts,
            trajectories,
            out,
            dates,
            threshold_minutes,
            n_bootstrap=n_bootstrap,
            seed=seed,
            title=title,
            inputs=list(inputs),
            progress=advance,
            crosscheck=answers,
        )
        bar.update(task, completed=len(steps))
    click.echo(str(path))
