"""`rdbench baseline`: start a human baseline attempt and wait until it is submitted."""

from __future__ import annotations

import math
import warnings

import click


@click.command("baseline")
@click.argument("task")
@click.option(
    "--budget",
    required=True,
    help="Working time on the human clock: 8h, 90m, 1.5h (bare number: minutes).",
)
@click.option(
    "--log-dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Where the Inspect log is written.",
)
@click.option(
    "--baseliner", required=True, help="Name of the person taking the attempt (stored in the log)."
)
@click.option(
    "--sandbox",
    type=click.Choice(["bwrap", "local"]),
    default="bwrap",
    show_default=True,
    help="bwrap (isolated) or local (NO isolation: trusted baseliners only).",
)
@click.option("--display", default=None, help="Inspect display: full (default), rich, plain, none.")
def baseline(
    task: str, budget: str, log_dir: str, baseliner: str, sandbox: str, display: str | None
) -> None:
    """Start a human attempt at TASK (FAMILY or FAMILY/TASK) for BASELINER.

    Prints the command that opens a shell in the attempt's sandbox (also written to
    LOG_DIR/baseline-<name>-<task>.connect.json). Logging in starts the clock; inside,
    `task instructions` lists the commands (score, stop/start for breaks, submit).
    See docs/baselining.md. Exits with status 1 when the attempt crashed (the message
    and the log with its traceback are printed after the summary).
    """
    from rdbench.humans.run import LOCAL_WARNING, parse_budget, run_baseline

    budget_s = parse_budget(budget)
    if sandbox == "local":
        import getpass

        click.secho(LOCAL_WARNING.format(user=getpass.getuser()), fg="red", bold=True, err=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the local warning was printed above
        log = run_baseline(
            task,
            budget_s=budget_s,
            log_dir=log_dir,
            baseliner=baseliner,
            sandbox=sandbox,
            display=display,
        )
    from rdbench._cli import _attempts

    ended, echo = _attempts.outcomes([log]), _attempts.crash_echo()
    if sandbox == "bwrap" and any("FrameworkDirectoryError" in c.message for c in ended.crashes):
        from rdbench.errors import SandboxUnavailable

        raise SandboxUnavailable(
            "this bwrap sandbox has no writable /opt and /var/tmp for the human agent's "
            "task commands; use --sandbox local for a trusted baseliner"
        )
    _attempts.say_headline(ended, echo)
    click.echo(summary(log))
    _attempts.say_crashes(ended, echo)
    _attempts.exit_if_crashed(ended)


def summary(log: object) -> str:
    """Return a few lines describing a finished human attempt's log."""
    from rdbench.humans.agent import BUDGET_KEY
    from rdbench.tasks.inspect_adapter import SCORER_NAME

    lines = [f"log: {log.location}", f"status: {log.status}"]  # type: ignore[attr-defined]
    for sample in log.samples or []:  # type: ignore[attr-defined]
        human = (sample.store or {}).get(BUDGET_KEY) or {}
        if sample.error is not None:
            lines.append(f"{sample.id}: no score (the attempt crashed)")
            continue
        score = (sample.scores or {}).get(SCORER_NAME)
        value = (
            float(score.value)
            if score is not None and isinstance(score.value, (int, float))
            else math.nan
        )
        trajectory = (score.metadata or {}).get("trajectory", []) if score is not None else []
        working_s = human.get("human_working_s", sample.working_time)
        lines.append(
            f"{sample.id}: score {value:.4f}, working time {working_s:.0f}s "
            f"of {human.get('budget_s', 0):.0f}s, {len(trajectory)} intermediate score(s), "
            f"ended by {human.get('ended_by')}"
        )
    return "\n".join(lines)
