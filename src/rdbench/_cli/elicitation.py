"""`rdbench elicitation`: the elicitation gap, the safety buffer and the threshold status."""

from __future__ import annotations

import dataclasses
import math

import click

from rdbench._cli._durations import format_duration, parse_duration
from rdbench._cli.horizon import (
    fmt_minutes,
    load_inputs,
    make_console,
    release_dates_for,
    warn,
    write_json,
)
from rdbench.errors import UserError


def _fmt_ratio(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if math.isinf(value):
        return "inf"
    return f"{value:.2f}x" if value < 100 else f"{value:.3g}x"


def _fmt_months(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.1f}"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _fmt_score(value: float) -> str:
    return "-" if _missing(value) else f"{value:+.3f}"


def _fmt_p50(value: float) -> str:
    # a p50 beyond a year is an extrapolation: say so instead of printing its digits
    if not _missing(value) and math.isfinite(value) and value > 525_960:
        return "> 1 year"
    return fmt_minutes(value)


def _date(value) -> str:
    if _missing(value) or str(value) == "NaT":
        return "-"
    return str(value.date()) if hasattr(value, "date") else str(value)


def _with_ci(value: str, low: float, high: float, fmt) -> str:
    if _missing(low):
        return value
    return f"{value} [{fmt(low)}, {fmt(high)}]"


def _say(console, text: str) -> None:
    # markup (bold) yes, but no automatic colouring of every number in prose
    console.print(text, highlight=False)


@click.command("elicitation")
@click.argument("inputs", nargs=-1)
@click.option("--model", "model", default=None,
              help="Only this model (the Attempt table's model column, e.g. c3-5s, "
              "openai/gpt-4o).")
@click.option("--base", default=None, metavar="CONFIG",
              help="The configuration to measure from (with --elicited). Default: each "
              "model's weakest configuration.")
@click.option("--elicited", default=None, metavar="CONFIG",
              help="The better-elicited configuration (with --base).")
@click.option("--by", "by", type=click.Choice(["agent", "agent+length"]), default="agent",
              show_default=True,
              help="What makes a configuration: the agent label and scaffold settings, or "
              "those plus the attempt length (time limit).")
@click.option("--threshold", default=None, metavar="DURATION",
              help="Capability threshold (8h, 40h, 2400 = minutes): each configuration's "
              "status against it, allowing for the buffer, and the forecast dates.")
@click.option("--release-dates", "release_dates_path", type=click.Path(dir_okay=False),
              help="Release dates for the trend that converts gaps into months (default: "
              "the shipped file for the public METR data).")
@click.option("--doubling-time", "doubling_days", type=click.FloatRange(min=0, min_open=True),
              default=None, metavar="DAYS",
              help="Use this doubling time (days) instead of fitting the trend; months then "
              "carry only the ratio's uncertainty.")
@click.option("--bootstrap", "n_bootstrap", type=click.IntRange(min=10), default=1000,
              show_default=True, help="Bootstrap samples (joint hierarchical for ratios).")
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@click.option("--confidence", type=click.FloatRange(0.5, 0.999), default=0.95, show_default=True)
@click.option("--weighting", type=click.Choice(["invsqrt", "equal", "none"]), default="invsqrt",
              show_default=True, help="Run weights of the horizon fits.")
@click.option("--success-threshold", type=float, default=None,
              help="Count score >= this as success in the horizon fits.")
@click.option("--json", "json_out", metavar="OUT", help="Write all results as JSON ('-' = stdout).")
@click.option("--skip-bad", is_flag=True, help="Skip unreadable logs / JSON lines, with a count.")
def elicitation(inputs, model, base, elicited, by, threshold, release_dates_path, doubling_days,
                n_bootstrap, seed, confidence, weighting, success_threshold, json_out,
                skip_bad) -> None:
    """How much better the same model does when elicited better, in horizon units and
    months of progress, and the safety buffer that implies below a capability threshold.

    Attempts are grouped by (model, configuration): the agent label plus the versioned
    scaffold settings rdbench records in every log (METR runs: the agent label), and with
    --by agent+length the attempt length too. Each pair is compared on the tasks both ran:
    mean normalized score (paired bootstrap over tasks) and horizon ratio
    p50(elicited)/p50(base) from one joint hierarchical bootstrap, converted to months
    with the horizon trend (log2 ratio x doubling time). The buffer is the largest gap
    (and its upper CI bound) over every model run under more than one configuration.

    INPUTS: as for `rdbench horizon` (default: the shipped public METR runs). In that data
    the model id c3-5s covers Claude 3.5 Sonnet (Old) and (New): their gap is a model
    update, not elicitation -- read it as an example of the computation.

    \b
    Examples:
      rdbench elicitation                     # public data, every model with 2+ configs
      rdbench elicitation --by agent+length --threshold 8h
      rdbench elicitation logs/ --base "gpt-4o · react-minimal-v1" \\
          --elicited "gpt-4o · react-v1" --threshold 8h --json gaps.json
    """
    from rdbench.stats import elicitation as el
    from rdbench.stats import fit_horizons, fit_trend

    if (base is None) != (elicited is None):
        raise UserError("give --base and --elicited together (or neither: every model is "
                        "compared against its weakest configuration)")
    threshold_min = None
    if threshold is not None:
        if "," in threshold:
            raise UserError(f"--threshold takes one duration, not a list: {threshold!r}")
        threshold_min = parse_duration(threshold) / 60
    attempts, _, _ = load_inputs(inputs, skip_bad)
    configs = el.configurations(attempts, by)
    if configs.empty:
        raise UserError("no agent attempts in the inputs (human baselines alone have no gap)")
    if model is not None and model not in set(configs["model"]):
        known = ", ".join(sorted(set(configs["model"])))
        raise UserError(f"no attempts of model {model!r}; models in the inputs: {known}")
    pairs = _pairs(el, attempts, configs, by, model, base, elicited)

    # The trend (months of progress, forecasts) is fitted on the agents' own horizons, with
    # the same options as `rdbench horizon`.
    fit_options = {"weighting": weighting, "success_threshold": success_threshold,
                   "n_bootstrap": n_bootstrap, "seed": seed, "confidence": confidence}
    trend = agents_fit = dates = None
    trend_note = ""
    if doubling_days is None:
        dates = release_dates_for(release_dates_path, attempts)
        if dates is None:
            trend_note = ("no release dates: months of progress need --release-dates or "
                          "--doubling-time")
        else:
            agents_fit = fit_horizons(attempts, **fit_options)
            try:
                trend = fit_trend(agents_fit.table, dates, samples=agents_fit.samples,
                                  thresholds_minutes=[threshold_min or 480.0],
                                  confidence=confidence, seed=seed)
                doubling_days = trend.doubling_time_days
            except ValueError as ex:
                trend_note = f"no trend ({ex}): months of progress need --doubling-time"
    if trend_note:
        warn(trend_note)
    try:
        gaps = el.elicitation_gaps(
            attempts, pairs, by=by,
            trend_slopes=trend.samples["slope"].to_numpy() if trend is not None else None,
            doubling_time_days=doubling_days, **fit_options,
        )
    except ValueError as ex:
        raise UserError(str(ex)) from None
    buffer = el.safety_buffer(gaps)
    labelled = attempts.assign(configuration=el.label_configurations(attempts, "agent"))
    best_of_k = el.best_of_k_gap(labelled, group_col="configuration", n_bootstrap=n_bootstrap,
                                 seed=seed, confidence=confidence)
    if model is not None:
        keep = set(el.configurations(attempts, "agent").query("model == @model")["configuration"])
        best_of_k = best_of_k[best_of_k["agent"].isin(keep)]

    status = forecasts = None
    if threshold_min is not None:
        labels = el.label_configurations(attempts, by)
        if agents_fit is not None and (labels == attempts["agent"].astype(str)).all():
            per_config = agents_fit.table  # configurations are the agents: one fit serves
        else:
            per_config = fit_horizons(attempts.assign(agent=labels), **fit_options).table
        if model is not None:
            keep = set(configs.loc[configs["model"] == model, "configuration"])
            per_config = per_config[per_config["agent"].isin(keep)]
        status = el.threshold_status(per_config, threshold_min, buffer.factor_high)
        if trend is not None:
            # the same trend, asked for the buffered threshold too
            forecasts = fit_trend(
                agents_fit.table, dates, samples=agents_fit.samples,
                thresholds_minutes=sorted({threshold_min, threshold_min / buffer.factor_high}),
                confidence=confidence, seed=seed,
            ).forecasts

    console = make_console()
    _print_gaps(console, gaps, confidence, doubling_days, trend)
    _print_buffer(console, buffer, confidence)
    if status is not None:
        _print_status(console, status, threshold_min, buffer, forecasts)
    _print_best_of_k(console, best_of_k, confidence)
    if json_out:
        write_json(json_out, {
            "settings": {"by": by, "model": model, "threshold_minutes": threshold_min,
                         "doubling_time_days": doubling_days, **fit_options,
                         "trend_method": trend.method if trend is not None else None},
            "configurations": configs,
            "gaps": gaps,
            "buffer": dataclasses.asdict(buffer),
            "threshold_status": status,
            "forecasts": forecasts,
            "best_of_k": best_of_k,
            "notes": [trend_note] if trend_note else [],
        })


def _pairs(el, attempts, configs, by, model, base, elicited) -> list[tuple[str, str, str]]:
    """The (model, base, elicited) triples to compare; warns about configurations left out."""
    if base is not None:
        labels = dict(zip(configs["configuration"], configs["model"]))
        for name in (base, elicited):
            if name not in labels:
                raise UserError(
                    f"no configuration {name!r}; configurations: {', '.join(sorted(labels))}"
                )
        if labels[base] != labels[elicited]:
            warn(f"{base!r} and {elicited!r} are different models ({labels[base]}, "
                 f"{labels[elicited]}): the gap is not an elicitation gap of one model")
        return [(labels[elicited], base, elicited)]
    pairs = el.default_pairs(attempts, by=by, model=model)
    if not pairs:
        mine = configs if model is None else configs[configs["model"] == model]
        if model is not None and (mine["n_configurations"] < 2).all():
            raise UserError(
                f"model {model!r} ran under one configuration only "
                f"({', '.join(mine['configuration'])}): nothing to compare; run it under a "
                "second one (rdbench run --scaffold) or try --by agent+length"
            )
        if (mine["n_configurations"] < 2).all():
            raise UserError(
                "every model ran under one configuration only: nothing to compare; run one "
                "model under two scaffolds on the same tasks (rdbench run --scaffold), or "
                "try --by agent+length"
            )
        raise UserError(
            "no two configurations of one model share a task: compare them on the same "
            "tasks (rdbench run --tasks ... --scaffold ...)"
        )
    for label in el.unpaired_configurations(attempts, pairs, by=by, model=model):
        warn(f"{label}: shares no task with its model's weakest configuration (left out)")
    return pairs


def _print_gaps(console, gaps, confidence, doubling_days, trend) -> None:
    # One block per pair: readable in an 80-column terminal, where a seven-column table
    # of values with intervals is not.
    level = round(confidence * 100)
    _say(console, f"[bold]Elicitation gaps[/bold] (paired on the tasks both ran; "
                  f"[{level}% CI])")
    for row in gaps.itertuples():
        _say(console, f"\n  {row.model}: {row.base} → {row.elicited} "
                      f"({row.n_tasks} tasks, {row.n_families} families)")
        lines = [
            ("score gap", _with_ci(_fmt_score(row.score_diff), row.score_diff_low,
                                   row.score_diff_high, _fmt_score)),
            ("p50", f"{_fmt_p50(row.base_p50)} → {_fmt_p50(row.elicited_p50)}"),
            ("horizon ratio", _with_ci(_fmt_ratio(row.ratio), row.ratio_low, row.ratio_high,
                                       _fmt_ratio)),
            ("months", _with_ci(_fmt_months(row.months), row.months_low, row.months_high,
                                _fmt_months)),
        ]
        for name, value in lines:
            _say(console, f"    {name:<14}{value}")
        if row.note:
            _say(console, f"    note: {row.note}")
    if doubling_days is not None:
        source = (f"the horizon trend ({trend.method})" if trend is not None
                  else "--doubling-time")
        _say(console, f"\n  months = log2(ratio) × doubling time {doubling_days:.0f} days, "
                      f"from {source}")


def _print_buffer(console, buffer, confidence) -> None:
    level = round(confidence * 100)
    if buffer.n_pairs == 0:
        _say(console, "\nBuffer: no pair has a finite horizon ratio; no buffer can be "
                      "measured from these runs (factor 1)")
        return
    months = ""
    if buffer.months == buffer.months:
        months = (f"; {_fmt_months(buffer.months)} months (upper "
                  f"{_fmt_months(buffer.months_high)})")
    _say(console,
         f"\nBuffer (largest gap over {buffer.n_pairs} pair(s)): horizon factor "
         f"{_fmt_ratio(buffer.factor)}, upper {level}% bound {_fmt_ratio(buffer.factor_high)}"
         f"{months} — {buffer.model}: {buffer.base} → {buffer.elicited}")


def _print_status(console, status, threshold_min, buffer, forecasts) -> None:
    from rich.table import Table

    buffered = threshold_min / buffer.factor_high
    table = Table(
        title=f"Against the threshold {fmt_minutes(threshold_min)} (buffered: "
        f"{fmt_minutes(buffered)} = threshold / {_fmt_ratio(buffer.factor_high)})",
        title_justify="left",
    )
    table.add_column("configuration", overflow="fold", min_width=20)
    table.add_column("p50", justify="right", no_wrap=True)
    table.add_column("p50 upper", justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("why", overflow="fold")
    order = {"above": 0, "within buffer": 1, "clearly below": 2, "unknown": 3}
    for row in status.sort_values("status", key=lambda s: s.map(order)).itertuples():
        table.add_row(row.agent, _fmt_p50(row.p50), _fmt_p50(row.p50_high), row.status,
                      row.reason)
    console.print(table)
    if forecasts is not None:
        for row in forecasts.itertuples():
            label = ("threshold" if abs(row.threshold_minutes - threshold_min) < 1e-9
                     else "buffered threshold")
            _say(console,
                 f"  trend reaches the {label} {fmt_minutes(row.threshold_minutes)}: "
                 f"{_date(row.date)} [{_date(row.date_low)}, {_date(row.date_high)}]")


def _print_best_of_k(console, best_of_k, confidence) -> None:
    from rich.table import Table

    if best_of_k.empty:
        _say(console, "\n(best-of-k: no agent ran one task under two attempt lengths)")
        return
    level = round(confidence * 100)
    table = Table(title=f"Best-of-k as elicitation (k short attempts vs one long at the same "
                  f"budget; [{level}% CI])", title_justify="left")
    table.add_column("agent", overflow="fold", min_width=12)
    table.add_column("budget", justify="right")
    table.add_column("k × length", justify="right", no_wrap=True)
    table.add_column("tasks", justify="right")
    table.add_column("one long", justify="right")
    table.add_column("best of k", justify="right")
    table.add_column("gap")
    for row in best_of_k.itertuples():
        table.add_row(
            row.agent, format_duration(row.budget_s),
            f"{row.k} × {format_duration(row.attempt_length_s)}", str(row.n_tasks),
            f"{row.one_long:.3f}", f"{row.best_of_k:.3f}",
            _with_ci(_fmt_score(row.diff), row.diff_low, row.diff_high, _fmt_score),
        )
    console.print(table)
