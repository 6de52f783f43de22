"""Compute every section of the report with ``rdbench.stats`` and write the HTML page."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from rdbench.records.schema import SOURCE_INSPECT, SOURCE_METR
from rdbench.report import figures
from rdbench.report._style import agent_colors, figure_to_svg, format_minutes
from rdbench.report.tables import (
    FAMILY_TABLE_COLUMNS,
    attempt_list,
    elicitation_table,
    family_table,
    horizon_table,
    table_html,
)
from rdbench.stats.status import HorizonStatus

__all__ = ["Section", "Report", "build_report", "write_report", "DEFAULT_THRESHOLD_MINUTES"]

DEFAULT_THRESHOLD_MINUTES = 480.0
# Figure 2 uses rdbench's own attempts: METR's runs.jsonl has no trajectories, and its
# general (non-RE-Bench) tasks are scored 0/1, which a normalized-score curve would mix in.


@dataclass
class Section:
    """One section of the page: a figure (SVG text) or, without data, a sentence why."""

    id: str
    title: str
    lead: str
    svg: str | None = None
    empty: str | None = None
    tables: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Report:
    """Everything the page shows; :func:`rdbench.report.page.render_page` lays it out."""

    title: str
    summary: list[tuple[str, str, str]]  # (label, value, detail) headline cards
    inputs: list[str]
    sections: list[Section]
    warnings: list[str]
    credits: list[str] = field(default_factory=list)


def _svg(fig, name: str) -> str:
    try:
        return figure_to_svg(fig, name)
    finally:
        fig.clear()


def _attempt_lengths(agents: pd.DataFrame) -> list[float]:
    lengths = agents["time_limit_s"].astype(float)
    return sorted(float(v) for v in lengths[lengths > 0].dropna().unique())


def _budgets(lengths: list[float], humans: pd.DataFrame) -> list[float]:
    # Doublings from the shortest attempt length up to 16 attempts of the longest (and at
    # least the humans' longest working time), as RE-Bench's 30 min .. 32 h axis does.
    top = max(lengths) * 16
    if len(humans):
        top = max(top, float(humans["working_time_s"].astype(float).max(skipna=True) or 0))
    budgets, value = [], min(lengths)
    while value <= top * 1.0001 and len(budgets) < 40:
        budgets.append(value)
        value *= 2
    return budgets


def budget_section(attempts, trajectories, *, n_bootstrap, seed, colors) -> Section:
    """Figure 1: best-of-k against total budget, agents vs humans.

    Returns:
        The section (figure, or a sentence when there is nothing to compare).
    """
    from rdbench.stats import agent_vs_human

    section = Section(
        "budget",
        "1 · Agents and humans at equal time budgets",
        "For a total budget T, an agent with attempts of length t gets k = T ÷ t tries; "
        "the line is the expected best of those k (mean over tasks). The black line is what "
        "human experts had reached after working time T. Bands: 95% bootstrap over tasks.",
    )
    agents = attempts[~attempts["is_human"].astype(bool)]
    humans = attempts[attempts["is_human"].astype(bool)]
    lengths = _attempt_lengths(agents)
    if not lengths:
        section.empty = (
            "No data: no rdbench agent attempts with a time limit. This comparison needs "
            "rdbench logs (METR's runs.jsonl is used for the horizon sections only)."
        )
        return section
    table = agent_vs_human(
        attempts,
        trajectories,
        _budgets(lengths, humans),
        lengths,
        n_bootstrap=n_bootstrap,
        seed=seed,
    )
    short = table[(~table["is_human"].astype(bool)) & (table["n_tasks_short"] > 0)]
    table = table[table["score"].notna()]
    if table.empty:
        section.empty = "No data: no attempt has a known score at any budget."
        return section
    curves = pd.DataFrame(
        {
            "agent": table["agent"].astype(str),
            "is_human": table["is_human"].astype(bool),
            "attempt_minutes": np.where(
                table["is_human"].astype(bool), np.nan, table["attempt_length_s"] / 60
            ),
            "budget_minutes": table["budget_s"] / 60,
            "score": table["score"],
            "score_low": table["score_low"],
            "score_high": table["score_high"],
        }
    )
    section.svg = _svg(figures.budget_figure(curves, colors=colors), "fig-budget")
    if len(short):
        # best-of-k needs k attempts of a task: say which budgets lost tasks or points
        missing = int(short["score"].isna().sum())
        section.notes.append(
            f"{len(short)} agent/budget combination(s) leave out tasks with fewer than k "
            "attempts (best-of-k needs k attempts per task)"
            + (f"; {missing} have no task left and are not drawn." if missing else ".")
        )
    if humans.empty:
        section.notes.append("No human baselines in the inputs: agents only.")
    return section


def trajectory_section(attempts, trajectories, *, n_bootstrap, seed, colors) -> Section:
    """Figure 2: mean best-so-far score over working time within one attempt.

    Returns:
        The section.
    """
    from rdbench.stats import score_at_time_summary

    section = Section(
        "trajectory",
        "2 · Progress within an attempt",
        "Every call to the score tool is recorded with the working time it happened at. "
        "The line is the best score reached so far, averaged over attempts (per task, then "
        "over tasks); bands are 95% bootstrap intervals over tasks.",
    )
    ids = set(trajectories["attempt_id"].astype(str)) if len(trajectories) else set()
    subset = attempts[attempts["attempt_id"].astype(str).isin(ids)]
    if subset.empty:
        section.empty = (
            "No data: no attempt with a score trajectory (rdbench logs record one; "
            "METR runs do not)."
        )
        return section
    end = float(
        np.nanmax(
            [
                subset["working_time_s"].astype(float).max(skipna=True),
                trajectories["working_s"].astype(float).max(skipna=True),
            ]
        )
    )
    taus = np.linspace(0.0, end if end > 0 else 1.0, 61)
    summary = score_at_time_summary(subset, trajectories, taus, n_bootstrap=n_bootstrap, seed=seed)
    summary = summary[summary["score"].notna()]
    curves = pd.DataFrame(
        {
            "agent": summary["agent"].astype(str),
            "is_human": summary["is_human"].astype(bool),
            "working_minutes": summary["tau_s"] / 60,
            "score": summary["score"],
            "score_low": summary["score_low"],
            "score_high": summary["score_high"],
            "n_attempts": summary["n_attempts"],
        }
    )
    section.svg = _svg(figures.trajectory_figure(curves, colors=colors), "fig-trajectory")
    return section


@dataclass
class HorizonFits:
    """The fits behind sections 3 and 4, shared with the elicitation section."""

    horizons: object | None = None  # rdbench.stats.HorizonResult
    trend: object | None = None  # rdbench.stats.TrendResult


def horizon_sections(attempts, *, release_dates, threshold_minutes, n_bootstrap, seed, colors):
    """Figures 3 and 4: the time horizon per agent, and its trend over release dates.

    Returns:
        ``(horizon section, trend section, summary cards, warnings, HorizonFits)``.
    """
    from rdbench.stats import (
        empirical_success_rates,
        fit_horizons,
        fit_trend,
        horizon_curves,
        trend_line,
    )

    horizon = Section(
        "horizon",
        "3 · Time horizon: success against human task length",
        "Per agent, a logistic curve of success probability against log task length "
        "(how long the task takes a human expert), fitted with METR's weights; dots are "
        "observed success rates in length bins. The 50% horizon (p50) is the task length "
        "at which the agent succeeds half the time. Bands and intervals: 95%, hierarchical "
        "bootstrap over families, tasks and runs.",
    )
    trend = Section(
        "trend",
        "4 · Trend of the horizon over model release dates",
        "Each point is an agent's p50 at its model's release date (log scale). The line is "
        "the exponential trend (least squares on ln p50), its band the 95% bootstrap "
        f"interval; the diamond marks when the trend reaches {format_minutes(threshold_minutes)}.",
    )
    cards: list[tuple[str, str, str]] = []
    warnings: list[str] = []
    fits = HorizonFits()
    runs = attempts[~attempts["is_human"].astype(bool)]
    runs = runs[runs["success"].notna() & (runs["human_minutes"].astype(float) > 0)]
    if runs.empty:
        horizon.empty = "No data: no agent attempt with a known success and a human time estimate."
        trend.empty = "No data: the trend needs time horizons."
        return horizon, trend, cards, warnings, fits
    try:
        result = fit_horizons(attempts, n_bootstrap=n_bootstrap, seed=seed)
    except ValueError as ex:
        horizon.empty = f"No horizon could be fitted: {ex}."
        trend.empty = "No data: the trend needs time horizons."
        return horizon, trend, cards, warnings, fits
    warnings.extend(result.warnings)
    fits.horizons = result
    curves = horizon_curves(result)
    observed = empirical_success_rates(attempts)
    horizon.svg = _svg(
        figures.horizon_figure(curves, result.table, observed, colors=colors), "fig-horizon"
    )
    horizon.tables.append(
        table_html(
            horizon_table(result.table),
            css_class="data",
            numeric_columns=("runs", "tasks", "p50", "p50 95% CI", "p80", "p80 95% CI"),
        )
    )
    fitted = result.table[result.table["status"] == HorizonStatus.OK].dropna(subset=["p50"])
    if len(fitted):
        best = fitted.sort_values("p50").iloc[-1]
        cards.append(
            (
                "longest 50% horizon",
                format_minutes(best["p50"]),
                f"{best['agent']}; 95% CI {format_minutes(best['p50_low'])} – "
                f"{format_minutes(best['p50_high'])}",
            )
        )
    if not release_dates:
        trend.empty = (
            "No release dates given: pass --release-dates FILE (YAML alias → date) to fit "
            "the trend."
        )
        return horizon, trend, cards, warnings, fits
    if n_bootstrap < 1:
        trend.empty = "No trend: its interval needs bootstrap samples (n_bootstrap ≥ 1)."
        return horizon, trend, cards, warnings, fits
    try:
        tr = fit_trend(
            result.table,
            release_dates,
            samples=result.samples,
            thresholds_minutes=[threshold_minutes],
            n_bootstrap=n_bootstrap,
            seed=seed,
        )
    except ValueError as ex:
        trend.empty = f"No trend: {ex}."
        return horizon, trend, cards, warnings, fits
    warnings.extend(tr.warnings)
    fits.trend = tr
    points = tr.agents.merge(result.table[["agent", "p50_low", "p50_high"]], on="agent")
    forecast = tr.forecasts.iloc[0].to_dict() if len(tr.forecasts) else None
    trend.svg = _svg(
        figures.trend_figure(
            points,
            trend_line(tr),
            threshold_minutes=threshold_minutes,
            doubling_days=tr.doubling_time_days,
            doubling_low=tr.doubling_time_low,
            doubling_high=tr.doubling_time_high,
            forecast=forecast,
            colors=colors,
        ),
        "fig-trend",
    )
    left_out = tr.agents[~tr.agents["used"]]
    if len(left_out):
        trend.notes.append(
            "Not in the fit: "
            + "; ".join(f"{r.agent} ({r.reason})" for r in left_out.itertuples())
            + "."
        )
    if math.isfinite(tr.doubling_time_days):
        high = tr.doubling_time_high
        cards.append(
            (
                "horizon doubling time",
                f"{tr.doubling_time_days:.0f} days",
                f"95% CI {tr.doubling_time_low:.0f} – "
                f"{f'{high:.0f}' if math.isfinite(high) else '∞'} days; "
                f"{int(tr.agents['used'].sum())} agents, R² {tr.r_squared:.2f}",
            )
        )
    if forecast is not None and pd.notna(forecast.get("date")):
        lo, hi = forecast.get("date_low"), forecast.get("date_high")
        detail = "trend extrapolated"
        if pd.notna(lo) and pd.notna(hi):
            detail = f"95% CI {pd.Timestamp(lo):%b %Y} – {pd.Timestamp(hi):%b %Y}"
        elif pd.notna(lo):
            detail = f"95% CI from {pd.Timestamp(lo):%b %Y}, upper end never"
        cards.append(
            (
                f"p50 reaches {format_minutes(threshold_minutes)}",
                f"{pd.Timestamp(forecast['date']):%b %Y}",
                detail,
            )
        )
    return horizon, trend, cards, warnings, fits


def elicitation_section(
    attempts, *, fits: HorizonFits, release_dates, threshold_minutes, n_bootstrap, seed
):
    """Section 5: how much better each model does under its better configurations, the
    safety buffer that implies, and each agent's standing against the threshold.

    The same statistics as `rdbench elicitation` (``rdbench.stats.elicitation``), with its
    defaults: configurations by agent label, each model against its weakest configuration,
    months of progress through the trend of section 4 (when there is one).

    Returns:
        ``(section, summary cards, warnings)``.
    """
    from rdbench.stats import elicitation as el
    from rdbench.stats import fit_trend

    section = Section(
        "elicitation",
        "5 · Elicitation gap and safety buffer",
        "For each model run under more than one configuration (scaffold, prompt, tools), "
        "each configuration against the model's weakest: the paired score gap on their "
        "common tasks, the ratio of their 50% horizons and, through the trend, that ratio "
        "in months of progress. The buffer is the largest ratio's upper bound: a threshold "
        "should be read that much lower, since better elicitation could lift an agent by "
        "as much. Intervals: 95%, bootstrap over families and tasks.",
    )
    cards: list[tuple[str, str, str]] = []
    warnings: list[str] = []
    pairs = el.default_pairs(attempts)
    if not pairs:
        section.empty = (
            "No model ran under two configurations on common tasks: run one model under two "
            "scaffolds (rdbench run --scaffold) to measure its elicitation gap."
        )
        return section, cards, warnings
    trend = fits.trend
    slopes = trend.samples["slope"].to_numpy() if trend is not None else None
    doubling = trend.doubling_time_days if trend is not None else None
    try:
        gaps = el.elicitation_gaps(attempts, pairs, trend_slopes=slopes,
                                   doubling_time_days=doubling, n_bootstrap=n_bootstrap,
                                   seed=seed)
    except ValueError as ex:
        section.empty = f"No elicitation gap could be measured: {ex}."
        return section, cards, warnings
    buffer = el.safety_buffer(gaps)
    if buffer.n_pairs:
        section.svg = _svg(figures.elicitation_figure(gaps, buffer_factor=buffer.factor_high),
                           "fig-elicitation")
    section.tables.append(
        table_html(elicitation_table(gaps), css_class="data",
                   numeric_columns=("tasks", "score gap", "95% CI", "p50 ratio", "ratio 95% CI",
                                    "months", "months 95% CI"))
    )
    if trend is None:
        section.notes.append("No trend (section 4), so no months of progress.")
    if buffer.n_pairs == 0:
        section.notes.append("No pair has a finite horizon ratio: no buffer.")
        return section, cards, warnings
    buffered = threshold_minutes / buffer.factor_high
    section.notes.append(
        f"Safety buffer: ×{buffer.factor:.2f} (upper bound ×{buffer.factor_high:.2f}), from "
        f"{buffer.model}: {buffer.base} → {buffer.elicited}. A threshold of "
        f"{format_minutes(threshold_minutes)} is read as {format_minutes(buffered)}."
    )
    detail = f"{format_minutes(threshold_minutes)} ÷ buffer ×{buffer.factor_high:.2f}"
    if trend is not None and fits.horizons is not None:
        try:  # the trend of section 4, asked for the buffered threshold
            forecasts = fit_trend(
                fits.horizons.table, release_dates, samples=fits.horizons.samples,
                thresholds_minutes=[buffered], n_bootstrap=n_bootstrap, seed=seed,
            ).forecasts
        except ValueError as ex:
            warnings.append(f"elicitation: no forecast for the buffered threshold ({ex})")
        else:
            if len(forecasts) and pd.notna(forecasts.iloc[0].get("date")):
                detail += f"; trend reaches it {pd.Timestamp(forecasts.iloc[0]['date']):%b %Y}"
    cards.append(("buffered threshold", format_minutes(buffered), detail))
    if fits.horizons is not None:
        status = el.threshold_status(fits.horizons.table, threshold_minutes, buffer.factor_high)
        counts = status["status"].value_counts()
        section.notes.append(
            f"Against {format_minutes(threshold_minutes)} with the buffer: "
            + ", ".join(f"{int(counts.get(k, 0))} {k}"
                        for k in ("above", "within buffer", "clearly below", "unknown"))
            + " (agents)."
        )
        within = status.loc[status["status"] == "within buffer", "agent"].tolist()
        if within:
            section.notes.append("Within the buffer (better elicitation could put them over): "
                                 + ", ".join(map(str, within)) + ".")
    return section, cards, warnings


def _pct(value: float, signed: bool = False) -> str:
    if value is None or not np.isfinite(value):
        return "-"
    return f"{value:+.1%}" if signed else f"{value:.0%}"


def crosscheck_section(answers: pd.DataFrame, *, n_bootstrap: int, seed: int) -> Section:
    """Section 7 (with `rdbench report --crosscheck DIR`): the cross-provider verification
    eval, with the same statistics as `rdbench crosscheck-report`
    (``rdbench.crosscheck.analysis``): uplift against error correlation, accuracy per arm
    and how well each verifier catches the solver's mistakes.

    Returns:
        The section (a sentence instead of the figure when no pair has both an uplift and
        a finite error correlation).
    """
    from rdbench.crosscheck import analysis as an

    section = Section(
        "crosscheck",
        "7 · Cross-provider verification",
        "How much a second model catches the first's mistakes: the accuracy of each "
        "verification pair (the solver answers, the verifier reviews, the solver may "
        "revise) over the better of its two members alone and over the compute-matched "
        "self-consistency control, against how correlated the two models' errors are. "
        "Intervals: 95%, paired bootstrap over problems.",
    )
    accuracy = an.accuracy_table(answers, n_bootstrap=n_bootstrap, seed=seed)
    uplift = an.uplift_table(answers, n_bootstrap=n_bootstrap, seed=seed)
    rates = an.verifier_rates(answers)
    correlation = an.error_correlation(answers)
    try:
        section.svg = _svg(figures.crosscheck_figure(uplift, correlation), "fig-crosscheck")
    except ValueError as ex:
        section.empty = (f"No uplift against error correlation to draw ({ex}): run the single "
                         "and verify arms of at least two models (rdbench crosscheck).")
    if not uplift.empty:
        section.tables.append(table_html(pd.DataFrame({
            "solver ← verifier": [f"{r.solver} ← {r.verifier}" for r in uplift.itertuples()],
            "pairing": uplift["pairing"],
            "problems": uplift["n"],
            "pair accuracy": [_pct(v) for v in uplift["pair_accuracy"]],
            "vs better member": [f"{_pct(r.uplift, True)} [{_pct(r.uplift_low, True)}, "
                                 f"{_pct(r.uplift_high, True)}]" for r in uplift.itertuples()],
            "vs self-consistency": [
                f"{_pct(r.vs_control, True)} [{_pct(r.vs_control_low, True)}, "
                f"{_pct(r.vs_control_high, True)}]" if np.isfinite(r.vs_control) else "-"
                for r in uplift.itertuples()],
        }), css_class="data", numeric_columns=("problems", "pair accuracy")))
    if not rates.empty:
        section.tables.append(table_html(pd.DataFrame({
            "solver ← verifier": [f"{r.solver} ← {r.verifier}" for r in rates.itertuples()],
            "catches wrong (TPR)": [f"{_pct(r.true_positive_rate)} of {r.n_wrong}"
                                    for r in rates.itertuples()],
            "flags right (FPR)": [f"{_pct(r.flag_rate_on_right)} of {r.n_right}"
                                  for r in rates.itertuples()],
            "talked out of right": [_pct(v) for v in rates["talked_out_rate"]],
            "wrong fixed": [_pct(v) for v in rates["fixed_rate"]],
        }), css_class="data"))
    section.tables.append(table_html(pd.DataFrame({
        "arm": accuracy["arm"],
        "solver": accuracy["solver"],
        "verifier": [v if v != s else "" for v, s in zip(accuracy["verifier"],
                                                          accuracy["solver"])],
        "problems": accuracy["n"],
        "accuracy": [f"{_pct(r.accuracy)} [{_pct(r.low)}, {_pct(r.high)}]"
                     for r in accuracy.itertuples()],
        "unparsable": [_pct(v) for v in accuracy["unparsable"]],
    }), css_class="data", numeric_columns=("problems", "accuracy", "unparsable")))
    section.notes.append(
        f"{answers['problem_id'].nunique()} problems; read from "
        f"{answers['source'].nunique()} crosscheck logs. The same tables in the terminal: "
        "rdbench crosscheck-report."
    )
    return section


def tables_section(attempts) -> Section:
    """Section 5: the per-family table and the list of attempts with their transcripts.

    Returns:
        The section.
    """
    section = Section(
        "families",
        "6 · Task families and attempts",
        "Scores are normalized: 0 is the starting solution, 1 the reference solution. "
        "Every rdbench attempt links to its transcript, which `inspect view` opens.",
    )
    section.tables.append(
        table_html(
            family_table(attempts),
            css_class="data",
            numeric_columns=FAMILY_TABLE_COLUMNS[1:],
        )
    )
    limit = 2000
    with_log, without = attempt_list(attempts, limit=limit)
    if len(with_log):
        section.tables.append(
            '<h3 id="attempts">Attempts and transcripts</h3>'
            + table_html(
                with_log,
                css_class="data attempts",
                code_columns=("transcript", "open with"),
                numeric_columns=("score", "working time"),
            )
        )
        n_logs = int((attempts["source_format"] == SOURCE_INSPECT).fillna(False).sum())
        if n_logs > limit:
            section.notes.append(
                f"Showing the first {limit} of {n_logs} attempts with a transcript."
            )
    if len(without):
        section.tables.append(
            "<h3>Runs without transcripts</h3>"
            "<p class='lead'>These inputs (e.g. METR's runs.jsonl) carry scores but no "
            "transcript.</p>"
            + table_html(
                without,
                css_class="data",
                code_columns=("source",),
                numeric_columns=("attempts", "agents"),
            )
        )
    return section


def build_report(
    attempts: pd.DataFrame,
    trajectories: pd.DataFrame | None = None,
    *,
    release_dates: Mapping[str, object] | None = None,
    threshold_minutes: float = DEFAULT_THRESHOLD_MINUTES,
    n_bootstrap: int = 1000,
    seed: int = 0,
    title: str = "rdbench report",
    inputs: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
    crosscheck: pd.DataFrame | None = None,
) -> Report:
    """Compute every section of the report (see :func:`write_report` for the arguments).

    Returns:
        The :class:`Report`, ready for :func:`rdbench.report.page.render_page`.
    """
    from rdbench.records import (
        coerce_attempts,
        coerce_trajectories,
        default_release_dates,
        empty_trajectories,
    )

    step = progress or (lambda _msg: None)
    length_sources = None  # counted before coercing: the column is not in the schema
    if "human_minutes_source" in attempts:
        from rdbench.stats.human_times import estimate_count

        length_sources = estimate_count(
            attempts.fillna({"human_minutes_source": "estimate"})
        )
    attempts = coerce_attempts(attempts)
    trajectories = (
        coerce_trajectories(trajectories) if trajectories is not None else empty_trajectories()
    )
    colors = agent_colors(attempts["agent"].astype(str).unique())
    source = attempts["source"].astype("string").fillna("")
    metr_runs = (attempts["source_format"] == SOURCE_METR).fillna(False).to_numpy()
    own = attempts[~metr_runs]
    own_traj = trajectories[trajectories["attempt_id"].isin(own["attempt_id"])]
    step("best-of-k against budget")
    # The same comparison as `rdbench compare`, on every attempt (METR's RE-Bench runs
    # included: their tasks are the ones with human scores).
    budget = budget_section(attempts, trajectories, n_bootstrap=n_bootstrap, seed=seed,
                            colors=colors)
    step("trajectories")
    traj = trajectory_section(own, own_traj, n_bootstrap=n_bootstrap, seed=seed, colors=colors)
    step("time horizons and trend")
    release_dates = release_dates if release_dates is not None else default_release_dates(attempts)
    horizon, trend, cards, warnings, fits = horizon_sections(
        attempts,
        release_dates=release_dates,
        threshold_minutes=threshold_minutes,
        n_bootstrap=n_bootstrap,
        seed=seed,
        colors=colors,
    )
    step("elicitation gap")
    elicitation, elicitation_cards, elicitation_warnings = elicitation_section(
        attempts, fits=fits, release_dates=release_dates, threshold_minutes=threshold_minutes,
        n_bootstrap=n_bootstrap, seed=seed,
    )
    cards += elicitation_cards
    warnings += elicitation_warnings
    if length_sources is not None:
        estimated, n_tasks = length_sources
        horizon.notes.append(
            f"Task lengths: {n_tasks - estimated} of {n_tasks} tasks use baselined human times "
            f"(geometric mean of successful baselines), {estimated} rest on estimates."
        )
    step("tables")
    tables = tables_section(attempts)
    extra = []
    if crosscheck is not None:
        step("crosscheck")
        extra.append(crosscheck_section(crosscheck, n_bootstrap=n_bootstrap, seed=seed))
    is_human = attempts["is_human"].astype(bool)
    head = [
        (
            "attempts",
            f"{len(attempts):,}",
            f"{int((~is_human).sum()):,} agent, {int(is_human.sum()):,} human; "
            f"{attempts.loc[~is_human, 'agent'].nunique()} agents",
        ),
        (
            "tasks",
            f"{attempts['task_id'].nunique():,}",
            f"in {attempts['task_family'].nunique()} families",
        ),
    ]
    return Report(
        title=title,
        summary=head + cards,
        inputs=list(inputs or sorted(source.unique())),
        sections=[budget, traj, horizon, trend, elicitation, tables, *extra],
        warnings=warnings,
        credits=(
            [
                "METR-format runs: public METR data is MIT-licensed, © 2025 METR "
                "(github.com/METR/eval-analysis-public)."
            ]
            if metr_runs.any()
            else []
        ),
    )


def write_report(
    attempts: pd.DataFrame,
    trajectories: pd.DataFrame | None,
    out_path: str | Path,
    release_dates: Mapping[str, object] | None = None,
    threshold_minutes: float = DEFAULT_THRESHOLD_MINUTES,
    *,
    n_bootstrap: int = 1000,
    seed: int = 0,
    title: str = "rdbench report",
    inputs: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
    crosscheck: pd.DataFrame | None = None,
) -> Path:
    """Write the self-contained HTML report for an Attempt table.

    Args:
        attempts: the Attempt table (``rdbench.records``), any mix of rdbench logs and
            METR runs.
        trajectories: the trajectory table (None: no trajectories).
        out_path: the HTML file to write (parent directories are created).
        release_dates: agent -> release date for the trend; see
            ``rdbench.records.read_release_dates``. None: the release dates shipped with
            the public METR data when those runs are among the attempts, else no trend (the
            section says so).
        threshold_minutes: the horizon whose crossing date is forecast (480 = 8 hours).
        n_bootstrap: bootstrap samples for every interval (0: no intervals and no trend).
        seed: seeds every bootstrap (same inputs and seed -> same page).
        title: the page title.
        inputs: the input names listed on the page (default: the attempts' sources).
        progress: called with a short label before each step (for a progress display).
        crosscheck: the answers table of a crosscheck run
            (``rdbench.crosscheck.analysis.read_crosscheck_logs``): adds section 7.

    Returns:
        The path written. The page is written to a temporary file first and renamed, so
        an existing report is never left half-written.

    Raises:
        RecordsError: the tables do not match the Attempt/trajectory schemas.
        UserError: the file cannot be written (one line).
    """
    from rdbench.outputs import atomic_write_text
    from rdbench.report.page import render_page

    report = build_report(
        attempts,
        trajectories,
        release_dates=release_dates,
        threshold_minutes=threshold_minutes,
        n_bootstrap=n_bootstrap,
        seed=seed,
        title=title,
        inputs=inputs,
        progress=progress,
        crosscheck=crosscheck,
    )
    if progress:
        progress("writing the page")
    text = render_page(report)
    return atomic_write_text(out_path, text)
