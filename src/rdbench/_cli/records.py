"""`rdbench records`: convert logs and runs files into Attempt tables."""

from __future__ import annotations

from pathlib import Path

import click

from rdbench._cli._shared import check_outputs, load_inputs
from rdbench.errors import UserError


@click.command("records")
@click.argument("inputs", nargs=-1)
@click.option("--out", "out_dir", metavar="DIR",
              help="Write attempts.parquet and trajectories.parquet into DIR.")
@click.option("--jsonl", "jsonl_out", metavar="FILE",
              help="Write METR runs.jsonl (for METR's and others' analysis tools).")
@click.option("--success-threshold", type=float, default=1.0, show_default=True,
              help="Inspect logs: normalized score counted as success (1 = the reference).")
@click.option("--skip-bad", is_flag=True, help="Skip unreadable logs / JSON lines, with a count.")
def records(inputs, out_dir, jsonl_out, success_threshold, skip_bad) -> None:
    """Convert Inspect logs (agents and human baselines) and METR runs.jsonl into the
    Attempt table (one row per attempt) and its trajectory table (Parquet), and/or into
    METR runs.jsonl.

    INPUTS: directories of Inspect logs (searched recursively), .eval logs, runs.jsonl,
    attempts.parquet.
    With no INPUTS (or the word 'metr') the public METR runs shipped with rdbench are
    used (Jan 2025 snapshot, MIT, (c) 2025 METR).
    """
    if not out_dir and not jsonl_out:
        raise UserError("nothing to write: give --out DIR and/or --jsonl FILE")
    from rdbench.records import write_runs_jsonl, write_tables
    from rdbench.records.tables import ATTEMPTS_FILE, TRAJECTORIES_FILE

    outputs = [jsonl_out]
    if out_dir:
        outputs += [str(Path(out_dir) / ATTEMPTS_FILE), str(Path(out_dir) / TRAJECTORIES_FILE)]
    check_outputs(inputs, *outputs)
    attempts, trajectories, _ = load_inputs(inputs, skip_bad, success_threshold)
    n_humans = int(attempts["is_human"].sum())
    click.echo(
        f"{len(attempts)} attempts ({len(attempts) - n_humans} agent, {n_humans} human) "
        f"on {attempts['task_id'].nunique()} tasks; {len(trajectories)} trajectory points"
    )
    if out_dir:
        a_path, t_path = write_tables(attempts, trajectories, out_dir)
        click.echo(f"wrote {a_path} and {t_path}")
    if jsonl_out:
        n = write_runs_jsonl(attempts, jsonl_out)
        click.echo(f"wrote {n} runs to {jsonl_out}")

