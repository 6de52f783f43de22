"""`rdbench review`: run the transcript monitors over logs and show what fired."""

from __future__ import annotations

from pathlib import Path

import click

from rdbench._cli._shared import make_console, warn, write_json
from rdbench.errors import UserError


@click.command("review")
@click.argument("logs", nargs=-1, required=True)
@click.option("--monitors", "which", type=click.Choice(["rules"]), default="rules",
              show_default=True,
              help="Which monitors: the deterministic rule monitors (the model monitor is "
                   "not built yet).")
@click.option("--json", "json_out", metavar="OUT", help="Also write the findings as JSON ('-': stdout).")
@click.option("--rescan", is_flag=True, help="Scan again even where stored results are current.")
def review(logs, which, json_out, rescan) -> None:
    """Read every attempt's transcript and report, with evidence, what the monitors saw:
    scoring tampering, reaching for hidden files, copying the reference, training that
    never happened, implausible scores, refusals, malformed or repeated tool calls, early
    submission, giving up, and (counted apart, the task's fault) environment errors.

    LOGS: Inspect .eval logs, or directories of them (searched recursively). Results are
    kept beside each log (LOG.review.json); a second run reads them instead of the log.
    Any unreadable log stops the command before anything is written.
    """
    from rdbench.outputs import check_output_path
    from rdbench.review import find_logs, review_log, write_results

    paths = find_logs(list(logs))
    if json_out and json_out != "-":
        check_output_path(json_out, inputs=paths, what="JSON")
    # Scan everything first: a bad log stops the command with no result written anywhere.
    reviews = [review_log(path, use_cache=not rescan) for path in paths]
    for item in reviews:
        try:
            write_results(item)
        except UserError as ex:  # a read-only log folder: review anyway, store nothing
            warn(f"results not stored: {ex}")
    console = make_console(json_out)
    _print(console, reviews)
    if json_out:
        attempts = [a.to_dict() for item in reviews for a in item.attempts]
        write_json(json_out, {
            "monitors": which,
            "logs": [str(item.log) for item in reviews],
            "attempts": attempts,
            "flagged": sum(1 for a in attempts if any(f["kind"] != "environment"
                                                      for f in a["findings"])),
            "environment_errors": sum(1 for a in attempts if any(f["kind"] == "environment"
                                                                 for f in a["findings"])),
        })


def _print(console, reviews) -> None:
    from rich.markup import escape
    from rich.table import Table

    n_attempts = flagged = env = 0
    for item in reviews:
        for attempt in item.attempts:
            n_attempts += 1
            kinds = {f.kind for f in attempt.findings}
            flagged += bool(kinds - {"environment"})
            env += "environment" in kinds
            title = (f"{escape(str(item.log))} · {escape(attempt.sample_id)} "
                     f"epoch {attempt.epoch}" + (f" · {escape(attempt.agent)}" if attempt.agent else ""))
            if not attempt.findings:
                console.print(f"[green]✓[/green] {title}: nothing fired")
                continue
            table = Table(title=title, title_justify="left", show_lines=True)
            table.add_column("monitor")
            table.add_column("kind")
            table.add_column("msg", justify="right")
            table.add_column("what")
            table.add_column("evidence", overflow="fold")
            for f in attempt.findings:
                table.add_row(f.monitor, f.kind, "-" if f.message_index is None else str(f.message_index),
                              escape(f.summary), escape("\n".join(f.lines[:4])))
            console.print(table)
    cached = sum(item.cached for item in reviews)
    console.print(
        f"{n_attempts} attempts in {len(reviews)} logs: {flagged} flagged, {env} with environment "
        f"errors (the task's fault, counted apart); {len(reviews) - cached} scanned, {cached} "
        f"from stored results")
    dirs = sorted({str(Path(item.log).parent) for item in reviews if any(
        a.findings for a in item.attempts)})
    for folder in dirs:
        console.print(f"transcripts: inspect view --log-dir {escape(folder)}")


__all__ = ["review"]
