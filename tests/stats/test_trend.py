"""Trend of ln p50 on release date: doubling time, forecast, CIs, name matching."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rdbench.records import load_attempts, public_release_dates_path, read_release_dates
from rdbench.stats import fit_horizons, fit_trend, match_release_dates, trend_line


def _exact_table(doubling_days=200.0):
    dates = pd.to_datetime(["2022-01-01", "2023-01-01", "2024-01-01", "2025-01-01"])
    days = (dates - dates[0]).days.to_numpy()
    p50 = 4.0 * 2 ** (days / doubling_days)
    table = pd.DataFrame({"agent": list("ABCD"), "p50": p50})
    return table, dict(zip(table["agent"], dates))


def test_exact_exponential_trend():
    table, dates = _exact_table()
    trend = fit_trend(table, dates, thresholds_minutes=[4.0 * 2**10])
    # the day count between dates is exact, the year length 365.25 -> tiny slack
    assert trend.doubling_time_days == pytest.approx(200.0, rel=2e-3)
    assert trend.r_squared == pytest.approx(1.0, abs=1e-6)
    expected = pd.Timestamp("2022-01-01") + pd.Timedelta(days=2000)
    assert abs((trend.forecasts.iloc[0]["date"] - expected).days) <= 3
    assert trend.method == "agents-bootstrap"


def test_parametric_ci_from_table_cis():
    table, dates = _exact_table()
    table["p50_low"], table["p50_high"] = table["p50"] / 2, table["p50"] * 2
    trend = fit_trend(table, dates, seed=1)
    assert trend.method == "parametric-ci"
    assert trend.doubling_time_low < trend.doubling_time_days < trend.doubling_time_high
    f = trend.forecasts.iloc[0]
    assert f["date_low"] < f["date"] < f["date_high"]


def test_lenient_and_strict_name_matching():
    dates = {"davinci-002 (GPT-3)": "2020-05-28", "o1": "2024-12-05"}
    found, unmatched, lenient = match_release_dates(["davinci-002", "o1", "new"], dates)
    assert found["davinci-002"] == pd.Timestamp("2020-05-28")
    assert lenient == {"davinci-002": "davinci-002 (GPT-3)"} and unmatched == ["new"]
    _, unmatched, _ = match_release_dates(["davinci-002"], dates, lenient=False)
    assert unmatched == ["davinci-002"]


def test_public_trend_uses_joint_bootstrap():
    attempts = load_attempts("metr")[0]
    result = fit_horizons(attempts, n_bootstrap=300, seed=0)
    dates = read_release_dates(public_release_dates_path())
    trend = fit_trend(result.table, dates, samples=result.samples,
                      thresholds_minutes=[480, 2400])
    assert trend.method == "horizon-bootstrap"
    used = trend.agents.set_index("agent")
    assert not used.loc["davinci-002", "used"]  # no success: left out, with a note
    assert not used.loc["gpt-3.5-turbo-instruct", "used"]  # extrapolated p50
    assert used["used"].sum() == 8
    assert any("davinci-002 (GPT-3)" in w for w in trend.warnings)
    assert 60 < trend.doubling_time_days < 400
    assert trend.doubling_time_low < trend.doubling_time_days < trend.doubling_time_high
    f8, f40 = trend.forecasts.iloc[0], trend.forecasts.iloc[1]
    assert pd.Timestamp("2025-01-01") < f8["date"] < f40["date"]
    assert f8["date_low"] < f8["date"] < f8["date_high"]
    line = trend_line(trend)
    assert list(line.columns) == ["date", "year", "p50", "p50_low", "p50_high"]
    assert (line["p50_low"] <= line["p50_high"]).all()


def test_too_few_agents():
    with pytest.raises(ValueError):
        fit_trend(pd.DataFrame({"agent": ["A"], "p50": [1.0]}), {"A": "2024-01-01"})
