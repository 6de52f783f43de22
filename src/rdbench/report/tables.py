"""The report's tables: per-family summary, per-agent horizons, the list of attempts.

Pure functions from the Attempt table (``rdbench.records``) to display-ready DataFrames,
plus :func:`table_html` to render one. Grouping and counting only: the statistics come
from ``rdbench.stats``.
"""

from __future__ import annotations

import html
import shlex
from pathlib import Path

import numpy as np
import pandas as pd

from rdbench.records.schema import SOURCE_INSPECT, infer_source_format
from rdbench.report._style import format_minutes
from rdbench.stats.status import HorizonStatus

__all__ = [
    "FAMILY_TABLE_COLUMNS",
    "family_table",
    "horizon_table",
    "attempt_list",
    "table_html",
    "LOG_SUFFIXES",
]

# Sources with a transcript that `inspect view` can open.
LOG_SUFFIXES = (".eval", ".json")


def _fmt_score(value: float) -> str:
    return "–" if value is None or not np.isfinite(value) else f"{value:.2f}"


#: The columns of :func:`family_table`; all but "family" are right-aligned numbers.
FAMILY_TABLE_COLUMNS = (
    "family",
    "tasks",
    "attempts",
    "agents",
    "mean score",
    "best score",
    "human runs",
    "human mean",
    "human time",
)


def family_table(attempts: pd.DataFrame) -> pd.DataFrame:
    """One row per task family: agent attempts, mean and best normalized score, and the
    human reference (human attempts, their mean score, the expert time estimate).

    Args:
        attempts: the Attempt table (``task_family, task_id, is_human, score,
            human_minutes``).

    Returns:
        Columns ``family, tasks, attempts`` (agent attempts), ``agents, mean score,
        best score`` (agents), ``human runs, human mean`` (score), ``human time``
        (formatted text), sorted by family.
        Empty input gives an empty frame with these columns.
    """
    if attempts.empty:
        return pd.DataFrame(columns=list(FAMILY_TABLE_COLUMNS))
    rows = []
    for family, g in attempts.groupby("task_family", sort=True):
        humans = g[g["is_human"].astype(bool)]
        agents = g[~g["is_human"].astype(bool)]
        agent_scores = agents["score"].astype(float)
        human_scores = humans["score"].astype(float)
        minutes = g.groupby("task_id")["human_minutes"].first().astype(float)
        if minutes.notna().any():
            lo, hi = minutes.min(), minutes.max()
            human_time = (
                format_minutes(lo) if lo == hi else f"{format_minutes(lo)}–{format_minutes(hi)}"
            )
        else:
            human_time = "–"
        rows.append(
            {
                "family": str(family),
                "tasks": int(g["task_id"].nunique()),
                "attempts": int(len(agents)),
                "agents": int(agents["agent"].nunique()),
                "mean score": _fmt_score(agent_scores.mean()) if len(agents) else "–",
                "best score": _fmt_score(agent_scores.max()) if len(agents) else "–",
                "human runs": int(len(humans)),
                "human mean": _fmt_score(human_scores.mean()) if len(humans) else "–",
                "human time": human_time,
            }
        )
    return pd.DataFrame(rows, columns=list(FAMILY_TABLE_COLUMNS))


def horizon_table(horizons: pd.DataFrame) -> pd.DataFrame:
    """The per-agent horizon table for display, best p50 first.

    Args:
        horizons: ``rdbench.stats.HorizonResult.table`` (``agent, n_runs, n_tasks, p50,
            p50_low, p50_high, p80, p80_low, p80_high, status, note``).

    Returns:
        Columns ``agent, runs, tasks, p50, p50 95% CI, p80, p80 95% CI, note`` (text).
    """
    cols = ["agent", "runs", "tasks", "p50", "p50 95% CI", "p80", "p80 95% CI", "note"]
    rows = []
    for row in horizons.sort_values("p50", ascending=False, na_position="last").itertuples():

        def ci(low: float, high: float) -> str:
            if pd.isna(low) or pd.isna(high):
                return "–"
            return f"{format_minutes(low)} – {format_minutes(high)}"

        status = HorizonStatus(row.status)
        finite = status.has_horizon
        note = str(row.note) if isinstance(getattr(row, "note", ""), str) else ""
        if not note:
            note = status.explanation
        rows.append(
            {
                "agent": row.agent,
                "runs": int(row.n_runs),
                "tasks": int(row.n_tasks),
                "p50": format_minutes(row.p50)
                if finite
                else status.short,
                "p50 95% CI": ci(row.p50_low, row.p50_high),
                "p80": format_minutes(row.p80) if finite else "–",
                "p80 95% CI": ci(row.p80_low, row.p80_high),
                "note": note,
            }
        )
    return pd.DataFrame(rows, columns=cols)


def _view_command(source: str) -> str:
    path = Path(source)
    return f"inspect view --log-dir {shlex.quote(str(path.parent))}"


def attempt_list(attempts: pd.DataFrame, limit: int = 2000) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Attempts that have a transcript (an Inspect log), and a summary of those without.

    Args:
        attempts: the Attempt table (``source`` is the file each row was read from).
        limit: at most this many transcript rows (the page stays light); the caller says
            how many were left out.

    Returns:
        ``(with_transcript, without)``: the first has columns ``attempt, agent, task,
        score, working time, error, transcript, open with`` (``open with`` is the
        ``inspect view`` command for the log's directory); the second, one row per source
        file without transcripts: ``source, attempts, agents``.
    """
    source = attempts["source"].astype("string").fillna("")
    # Rows built without the column (or with it missing) say it by their file name.
    formats = infer_source_format(attempts["source"])
    if "source_format" in attempts:
        formats = attempts["source_format"].astype("string").fillna(formats)
    is_log = (formats == SOURCE_INSPECT).fillna(False)
    logs = attempts[is_log.to_numpy()]
    rows = []
    for row in logs.head(limit).itertuples():
        wt = row.working_time_s
        rows.append(
            {
                "attempt": str(row.attempt_id),
                "agent": str(row.agent),
                "task": str(row.task_id),
                "score": _fmt_score(float(row.score)) if pd.notna(row.score) else "invalid",
                "working time": format_minutes(float(wt) / 60) if pd.notna(wt) else "–",
                "error": "" if pd.isna(row.error) else str(row.error),
                "transcript": str(row.source),
                "open with": _view_command(str(row.source)),
            }
        )
    with_transcript = pd.DataFrame(
        rows,
        columns=[
            "attempt",
            "agent",
            "task",
            "score",
            "working time",
            "error",
            "transcript",
            "open with",
        ],
    )
    others = attempts[~is_log.to_numpy()]
    without = (
        others.assign(_source=source[~is_log].to_numpy())
        .groupby("_source", sort=True)
        .agg(attempts=("attempt_id", "size"), agents=("agent", "nunique"))
        .reset_index()
        .rename(columns={"_source": "source"})
    )
    return with_transcript, without


def table_html(
    frame: pd.DataFrame,
    *,
    css_class: str = "",
    code_columns: tuple[str, ...] = (),
    numeric_columns: tuple[str, ...] = (),
) -> str:
    """Render a small display table as escaped HTML.

    Args:
        frame: the table (values are shown as text).
        css_class: class of the ``<table>``.
        code_columns: columns shown in monospace (paths, commands).
        numeric_columns: columns aligned right.

    Returns:
        The ``<table>`` element.
    """
    head = "".join(
        f'<th class="{"num" if c in numeric_columns else ""}">{html.escape(str(c))}</th>'
        for c in frame.columns
    )
    body = []
    for values in frame.itertuples(index=False):
        cells = []
        for col, value in zip(frame.columns, values):
            text = html.escape(
                ""
                if value is None or (isinstance(value, float) and np.isnan(value))
                else str(value)
            )
            if col in code_columns and text:
                text = f"<code>{text}</code>"
            cells.append(f'<td class="{"num" if col in numeric_columns else ""}">{text}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table class="{css_class}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def elicitation_table(gaps: pd.DataFrame) -> pd.DataFrame:
    """The elicitation gaps for display (`rdbench.stats.elicitation.elicitation_gaps`).

    Returns:
        Columns ``model, base, elicited, tasks, score gap, 95% CI, p50 ratio, ratio 95% CI,
        months, months 95% CI, note`` (text).
    """

    def num(value, fmt: str) -> str:
        return format(float(value), fmt) if pd.notna(value) and np.isfinite(value) else "–"

    rows = []
    for row in gaps.itertuples():
        rows.append({
            "model": row.model, "base": row.base, "elicited": row.elicited,
            "tasks": int(row.n_tasks),
            "score gap": num(row.score_diff, "+.3f"),
            "95% CI": f"{num(row.score_diff_low, '+.3f')} – {num(row.score_diff_high, '+.3f')}",
            "p50 ratio": f"×{num(row.ratio, '.2f')}",
            "ratio 95% CI": f"×{num(row.ratio_low, '.2f')} – ×{num(row.ratio_high, '.2f')}",
            "months": num(row.months, ".1f"),
            "months 95% CI": f"{num(row.months_low, '.1f')} – {num(row.months_high, '.1f')}",
            "note": str(row.note or ""),
        })
    return pd.DataFrame(rows, columns=["model", "base", "elicited", "tasks", "score gap",
                                       "95% CI", "p50 ratio", "ratio 95% CI", "months",
                                       "months 95% CI", "note"])
