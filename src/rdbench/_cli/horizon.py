"""`rdbench horizon`: METR time horizon (p50/p80 with CIs) per agent, trend and forecast."""

from __future__ import annotations

import click

from rdbench._cli._shared import (
    check_outputs,
    fmt_ci,
    fmt_minutes,
    load_inputs,
    make_console,
    print_trend,
    release_dates_for,
    thresholds_minutes,
    warn,
    write_json,
)
from rdbench.errors import UserError

# ---------------------------------------------------------------- the verb


@click.command("horizon")
@click.argument("inputs", nargs=-1)
@click.option("--release-dates", "release_dates_path", type=click.Path(dir_okay=False),
              help="YAML (METR's 'date: {alias: YYYY-MM-DD}') or CSV (agent,release_date) "
              "for the trend. Default: the shipped file when using the public data.")
@click.option("--bootstrap", "n_bootstrap", type=click.IntRange(min=0), default=1000,
              show_default=True, help="Hierarchical bootstrap samples (families, tasks, runs).")
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@click.option("--threshold", "threshold", default="8h,40h", show_default=True,
              help="Horizon(s) to forecast, comma-separated: 8h, 2400 (bare number = minutes).")
@click.option("--weighting", type=click.Choice(["invsqrt", "equal", "none"]), default="invsqrt",
              show_default=True, help="Run weights: 1/runs/sqrt(family tasks), 1/runs, or none.")
@click.option("--regularization", type=click.FloatRange(min=0), default=0.1, show_default=True,
              help="L2 penalty on the slope (sklearn C = 1/regularization).")
@click.option("--score", "score_mode", type=click.Choice(["binarized", "continuous"]),
              default="binarized", show_default=True,
              help="Outcome: the success flag, or the score in [0,1] as a fraction.")
@click.option("--success-threshold", type=float, default=None,
              help="Count score >= this as success (overrides --score).")
@click.option("--confidence", type=click.FloatRange(0.5, 0.999), default=0.95, show_default=True)
@click.option("--include-extrapolated", is_flag=True,
              help="Also fit the trend on p50s outside their agent's task-length range.")
@click.option("--strict-names", is_flag=True,
              help="Match release-date names exactly (default also matches 'x' to 'x (note)').")
@click.option("--json", "json_out", metavar="OUT", help="Write all results as JSON ('-' = stdout).")
@click.option("--skip-bad", is_flag=True, help="Skip unreadable logs / JSON lines, with a count.")
@click.option("--human-times", "human_times", multiple=True, metavar="LOGS",
              help="Human baseline logs (repeatable): use each task's baselined time (geometric "
                   "mean of successful baseliners' working times) where it has one.")
def horizon(inputs, release_dates_path, n_bootstrap, seed, threshold, weighting,
            regularization, score_mode, success_threshold, confidence, include_extrapolated,
            strict_names, json_out, skip_bad, human_times) -> None:
    """Time horizon per agent: the human task length at which it succeeds 50% (p50) and
    80% (p80) of the time, with hierarchical-bootstrap CIs; then the trend over release
    dates (doubling time) and the date it reaches --threshold.

    INPUTS: directories of Inspect logs, .eval logs, METR runs.jsonl, attempts.parquet.
    With no INPUTS (or the word 'metr') the public METR runs shipped with rdbench are
    used (Jan 2025 snapshot, MIT, (c) 2025 METR), with their release dates.

    \b
    Examples:
      rdbench horizon                       # public METR data, out of the box
      rdbench horizon logs/ --release-dates dates.yaml --threshold 2400
      rdbench horizon metr --bootstrap 200 --json horizon.json
    """
    from rich.table import Table

    from rdbench.stats import fit_horizons, fit_trend

    thresholds = thresholds_minutes(threshold)
    check_outputs(inputs, json_out)
    attempts, _, _ = load_inputs(inputs, skip_bad)
    lengths = None
    if human_times:
        from rdbench._cli.tasks import load_baselines
        from rdbench.stats.human_times import apply_human_times

        attempts = apply_human_times(attempts, load_baselines(human_times))
        lengths = attempts.groupby("task_id")[["human_minutes", "human_minutes_source"]].first()
    try:
        result = fit_horizons(
            attempts,
            weighting=weighting,
            regularization=regularization,
            score=score_mode,
            success_threshold=success_threshold,
            n_bootstrap=n_bootstrap,
            seed=seed,
            confidence=confidence,
        )
    except ValueError as ex:
        raise UserError(str(ex)) from None
    dates = release_dates_for(release_dates_path, attempts)
    trend, trend_error = None, None
    if dates is not None:
        try:
            trend = fit_trend(
                result.table,
                dates,
                samples=result.samples if n_bootstrap else None,
                thresholds_minutes=thresholds,
                confidence=confidence,
                n_bootstrap=n_bootstrap or 1000,
                seed=seed,
                lenient=not strict_names,
                include_extrapolated=include_extrapolated,
            )
        except ValueError as ex:
            trend_error = str(ex)
    for message in result.warnings + (trend.warnings if trend else []):
        warn(message)
    if trend_error:
        warn(f"no trend: {trend_error}")

    from rdbench.stats.status import HorizonStatus

    console = make_console(json_out)
    level = int(round(confidence * 100))
    table = Table(
        title=f"Time horizon ({weighting} weights, {n_bootstrap} bootstrap samples, {level}% CI)",
        title_justify="left",
    )
    table.add_column("agent", min_width=18)
    table.add_column("released", no_wrap=True)
    table.add_column("runs", justify="right", no_wrap=True)
    table.add_column("p50", justify="right", no_wrap=True)
    table.add_column(f"{level}% CI", no_wrap=True)
    table.add_column("p80", justify="right", no_wrap=True)
    table.add_column(f"{level}% CI", no_wrap=True)
    released = {}
    if trend is not None:
        released = dict(zip(trend.agents["agent"], trend.agents["release_date"]))
    order = result.table.assign(_d=result.table["agent"].map(released)).sort_values(
        ["_d", "agent"], na_position="last"
    )
    notes = []
    for row in order.itertuples():
        d = released.get(row.agent)
        note = HorizonStatus(row.status).explanation
        if row.extrapolated:
            note = (note + "; " if note else "") + (
                f"p50 extrapolated outside its tasks' {fmt_minutes(row.min_minutes)}"
                f"-{fmt_minutes(row.max_minutes)}"
            )
        mark = ""
        if note:
            notes.append(note)
            mark = f" ({len(notes)})"
        table.add_row(
            row.agent + mark,
            str(d.date())[:7] if d is not None and d == d else "-",
            str(row.n_runs),
            fmt_minutes(row.p50),
            fmt_ci(row.p50_low, row.p50_high),
            fmt_minutes(row.p80),
            fmt_ci(row.p80_low, row.p80_high),
        )
    console.print(table)
    for i, note in enumerate(notes, start=1):
        console.print(f"  ({i}) {note}")
    if lengths is not None:
        on_estimates = int((lengths["human_minutes_source"] != "baseline").sum())
        console.print(f"human minutes: {len(lengths) - on_estimates} of {len(lengths)} tasks "
                      f"baselined, {on_estimates} rest on estimates")
    if trend is not None:
        print_trend(console, trend)
    elif dates is None:
        console.print("(no --release-dates: no trend or forecast)")

    if json_out:
        payload = {"settings": result.settings, "agents": result.table, "warnings": result.warnings}
        if lengths is not None:
            payload["human_minutes"] = lengths.reset_index()
        if trend is not None:
            payload["trend"] = {
                "method": trend.method,
                "slope_ln_per_year": trend.slope,
                "doubling_time_days": trend.doubling_time_days,
                "doubling_time_days_low": trend.doubling_time_low,
                "doubling_time_days_high": trend.doubling_time_high,
                "r_squared": trend.r_squared,
                "n_bootstrap": trend.n_bootstrap,
                "n_dropped": trend.n_dropped,
                "agents": trend.agents,
                "forecasts": trend.forecasts,
                "warnings": trend.warnings,
            }
        write_json(json_out, payload)
