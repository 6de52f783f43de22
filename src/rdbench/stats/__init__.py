"""Statistics over Attempt tables: pure functions over pandas DataFrames.

Public API (see each function's docstring for its columns):

- normalization: :func:`normalize_score`, :func:`normalize_column`
- best-of-k: :func:`expected_max_of_k`, :func:`best_of_k_by_task`, :func:`best_of_k`
- score at time: :func:`score_at_time`, :func:`score_at_time_summary`
- agents vs humans: :func:`attempt_scores_for_length`, :func:`agent_vs_human`
- time horizon: :func:`task_weights`, :func:`horizon_runs`, :func:`fit_horizons`
  (-> :class:`HorizonResult`), :func:`horizon_curves`, :func:`empirical_success_rates`,
  :func:`fit_logistic_batch`, :func:`horizon_minutes`
- human times: :func:`baselined_minutes`, :func:`apply_human_times`, :func:`estimate_count`
- trend: :func:`match_release_dates`, :func:`fit_trend` (-> :class:`TrendResult`),
  :func:`trend_line`
"""

from rdbench.stats.best_of_k import (
    agent_vs_human,
    attempt_scores_for_length,
    best_of_k,
    best_of_k_by_task,
    expected_max_of_k,
    score_at_time,
    score_at_time_summary,
)
from rdbench.stats.horizon import (
    DEFAULT_BINS_MINUTES,
    HorizonResult,
    empirical_success_rates,
    fit_horizons,
    horizon_curves,
    horizon_runs,
    quantile_with_inf,
)
from rdbench.stats.human_times import apply_human_times, baselined_minutes, estimate_count
from rdbench.stats.logistic import LogisticFit, fit_logistic_batch, horizon_minutes
from rdbench.stats.normalize import normalize_column, normalize_score
from rdbench.stats.trend import (
    TrendResult,
    decimal_year,
    fit_trend,
    from_decimal_year,
    match_release_dates,
    trend_line,
)
from rdbench.stats.weights import task_weights

__all__ = [
    "DEFAULT_BINS_MINUTES",
    "HorizonResult",
    "LogisticFit",
    "TrendResult",
    "agent_vs_human",
    "apply_human_times",
    "baselined_minutes",
    "estimate_count",
    "attempt_scores_for_length",
    "best_of_k",
    "best_of_k_by_task",
    "decimal_year",
    "empirical_success_rates",
    "expected_max_of_k",
    "fit_horizons",
    "fit_logistic_batch",
    "fit_trend",
    "from_decimal_year",
    "horizon_curves",
    "horizon_minutes",
    "horizon_runs",
    "match_release_dates",
    "normalize_column",
    "normalize_score",
    "quantile_with_inf",
    "score_at_time",
    "score_at_time_summary",
    "task_weights",
    "trend_line",
]
