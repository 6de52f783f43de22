"""`rdbench calibrate`: time the timing-sensitive families' solutions on this machine."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from rdbench.errors import UserError
from rdbench.tasks import load_families
from rdbench.tasks.calibration import (
    MAX_SPREAD,
    calibration_needed,
    calibration_path,
    remove_calibration,
    shipped_scores,
)
from rdbench.tasks.calibration import (
    calibrate as run_calibration,
)
from rdbench.tasks.contract import TaskFamily


def _timing_families(names: tuple[str, ...]) -> list[TaskFamily]:
    loaded = load_families(list(names))
    if names:
        untimed = [f.name for f in loaded if not f.timing_sensitive]
        if untimed:
            verb = "does" if len(untimed) == 1 else "do"
            raise UserError(f"{', '.join(untimed)} {verb} not time solutions: only timing-"
                            "sensitive families are calibrated (see `rdbench calibrate --show`)")
        self_calibrating = [f.name for f in loaded if f.self_calibrating]
        if self_calibrating:
            raise UserError(f"{', '.join(self_calibrating)}: every scoring measures both ends "
                            "of the scale itself, so there is nothing to calibrate")
    return [f for f in loaded if f.timing_sensitive and not f.self_calibrating]


@click.command("calibrate")
@click.argument("families", nargs=-1)
@click.option("--repeats", default=3, show_default=True,
              help="Scorings of each solution; the anchor is their median.")
@click.option("--max-spread", default=MAX_SPREAD, show_default=True,
              help="Refuse to store anchors when repeated timings of a solution differ by more "
                   "than this fraction of the normalized scale (a busy machine).")
@click.option("--show", is_flag=True, help="Only show the anchors in use; measure nothing.")
@click.option("--remove", is_flag=True, help="Delete the calibration: back to the shipped anchors.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the anchors in use as JSON to this file.")
def calibrate(families: tuple[str, ...], repeats: int, max_spread: float, show: bool,
              remove: bool, json_out: Path | None) -> None:
    """Measure the starting and reference solutions of timing-sensitive families here.

    Families that score wall time (optimize_kernel, optimize_training) score the ratio of
    a solution's time to a yardstick timed in the same run, so their shipped anchors
    (ratios measured on the reference machine) hold where the machine is just faster,
    slower or busier. They are off only where the solutions differ in relative speed (another
    CPU or Python version): the table's "shipped scores" column says by how much (ideally
    0 / 1) and "needed" whether that exceeds 0.05. After calibrating, scores on this machine
    use the ratios measured here. Run it when the machine is quiet (about 40 seconds for
    optimize_kernel with 3 repeats). Calibrations are stored in the cache (RDBENCH_CACHE,
    default ~/.cache/rdbench) and ignored once the family's files (other than
    documentation) or the machine change.

    FAMILIES: default all timing-sensitive families.
    """
    if show and remove:
        raise click.UsageError("--show and --remove exclude each other")
    if repeats < 1:
        raise click.BadParameter("must be at least 1", param_hint="--repeats")
    selected = _timing_families(families)
    if not selected:
        raise UserError("no timing-sensitive family to calibrate")
    console = Console(stderr=True)
    if remove:
        for family in selected:
            gone = remove_calibration(family)
            what = "calibration removed" if gone else "no calibration"
            console.print(f"{family.name}: {what}; shipped anchors in use")
        return
    if not show:
        for family in selected:
            with console.status(f"{family.name}: calibrating...") as status:
                run_calibration(family, repeats, progress=status.update, max_spread=max_spread)
            console.print(f"{family.name}: calibrated, stored in {calibration_path(family)}")
    rows = [_anchor_row(family) for family in selected]
    table = Table(title="rdbench calibrate: anchors in use on this machine",
                  title_justify="left")
    table.add_column("family", no_wrap=True)
    for column in ("anchors", "start", "reference", "shipped", "shipped scores start / ref.",
                   "needed"):
        table.add_column(column)
    for row in rows:
        would = row["shipped_would_score"]
        measured = row["calibration"]["measured_at"] if row["calibration"] else None
        anchors = "shipped" if measured is None else f"here, {measured[:16].replace('T', ' ')}"
        needed = row["calibration_needed"]
        table.add_row(row["family"], anchors,
                      f"{row['start']:.4g}", f"{row['reference']:.4g}",
                      f"{row['shipped_start']:.4g} / {row['shipped_reference']:.4g}",
                      "-" if would is None else
                      f"{would['starting']:.3f} / {would['reference']:.3f}",
                      "-" if needed is None else ("yes" if needed else "no (within 0.05)"))
    Console().print(table)
    if json_out is not None:
        json_out.write_text(json.dumps(rows, indent=2))


def _anchor_row(family: TaskFamily) -> dict:
    shipped = family.normalization
    assert shipped is not None  # the loader rejects a family without one
    calibration = family.calibration()
    active = family.active_normalization()
    return {
        "family": family.name,
        "start": active.start,
        "reference": active.reference,
        "anchors": active.anchors,
        "shipped_start": shipped.start,
        "shipped_reference": shipped.reference,
        "shipped_would_score_reference": (
            None if calibration is None else shipped_scores(calibration, shipped)["reference"]
        ),
        "shipped_would_score": (
            None if calibration is None else shipped_scores(calibration, shipped)
        ),
        "calibration_needed": (
            None if calibration is None else calibration_needed(calibration, shipped)
        ),
        "calibration": None if calibration is None else {
            "start_runs": calibration.start_runs,
            "reference_runs": calibration.reference_runs,
            "measured_at": calibration.measured_at,
            "load_1min": calibration.load_1min,
            "machine": calibration.machine,
        },
    }
