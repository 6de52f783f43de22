"""`rdbench trend`: doubling time and forecast from a table of time horizons."""

from __future__ import annotations

import json
from pathlib import Path

import click

from rdbench._cli._shared import (
    fmt_ci,
    fmt_minutes,
    make_console,
    print_trend,
    release_dates_for,
    thresholds_minutes,
    warn,
    write_json,
)
from rdbench.errors import UserError

_LOW_NAMES = ("p50_low", "ci_low", "low", "p50_ci_low", "lower")
_HIGH_NAMES = ("p50_high", "ci_high", "high", "p50_ci_high", "upper")


def read_p50_table(path: str):
    """Read agent horizons from CSV, YAML or `rdbench horizon --json` output.

    Accepted shapes: CSV with columns ``agent, p50`` (minutes) and optional CI columns
    (``p50_low/p50_high``, ``ci_low/ci_high`` or ``low/high``); YAML as a list of such
    mappings, or a mapping agent -> p50 or agent -> {p50, low, high}; JSON from
    ``rdbench horizon --json`` (its ``agents`` list, status and extrapolation included).

    Returns:
        DataFrame with ``agent, p50`` and, when given, ``p50_low, p50_high, status,
        extrapolated``.

    Raises:
        UserError: unreadable file, unknown shape, or missing agent/p50 columns.
    """
    import pandas as pd

    p = Path(path)
    try:
        if p.suffix.lower() == ".csv":
            df = pd.read_csv(p)
        elif p.suffix.lower() == ".json":
            data = json.loads(p.read_text(encoding="utf-8"))
            rows = data.get("agents", data) if isinstance(data, dict) else data
            df = pd.DataFrame(rows)
        else:
            import yaml

            data = yaml.safe_load(p.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                rows = []
                for agent, value in data.items():
                    if isinstance(value, dict):
                        rows.append({"agent": agent, **value})
                    else:
                        rows.append({"agent": agent, "p50": value})
                df = pd.DataFrame(rows)
            elif isinstance(data, list):
                df = pd.DataFrame(data)
            else:
                raise UserError(f"{path}: expected a list or mapping of agents")
    except UserError:
        raise
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except Exception as ex:
        raise UserError(f"{path}: cannot read horizon table ({ex})") from None
    if "agent" not in df or "p50" not in df:
        raise UserError(f"{path}: needs columns 'agent' and 'p50' (minutes)")
    for names, target in ((_LOW_NAMES, "p50_low"), (_HIGH_NAMES, "p50_high")):
        for name in names:
            if name in df and target not in df:
                df[target] = df[name]
    df["agent"] = df["agent"].astype(str)
    for col in ("p50", "p50_low", "p50_high"):
        if col in df:
            df[col] = pd.to_numeric(df[col].replace({"inf": float("inf")}), errors="coerce")
    if "status" not in df:
        df["status"] = "ok"
    df["status"] = df["status"].fillna("ok")
    if "extrapolated" in df:
        df["extrapolated"] = df["extrapolated"].fillna(False).astype(bool)
    return df


@click.command("trend")
@click.argument("p50_table", required=False)
@click.option("--release-dates", "release_dates_path", type=click.Path(dir_okay=False),
              help="YAML (METR's 'date: {alias: YYYY-MM-DD}') or CSV (agent,release_date). "
              "Required unless using the public data.")
@click.option("--threshold", default="8h,40h", show_default=True,
              help="Horizon(s) to forecast, comma-separated: 8h, 2400 (bare number = minutes).")
@click.option("--bootstrap", "n_bootstrap", type=click.IntRange(min=10), default=1000,
              show_default=True, help="Bootstrap samples for the CIs.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--include-extrapolated", is_flag=True,
              help="Also use p50s marked as extrapolated outside their task range.")
@click.option("--strict-names", is_flag=True,
              help="Match release-date names exactly (default also matches 'x' to 'x (note)').")
@click.option("--json", "json_out", metavar="OUT", help="Write the trend as JSON ('-' = stdout).")
def trend(p50_table, release_dates_path, threshold, n_bootstrap, seed, include_extrapolated,
          strict_names, json_out) -> None:
    """Trend of the time horizon over release dates: doubling time and the date p50
    reaches --threshold, so published horizons can be checked and extended.

    P50_TABLE: CSV or YAML with agent, p50 (minutes) and optionally p50_low/p50_high
    (CI), or the JSON of `rdbench horizon --json`. With CIs the trend CI comes from
    drawing each ln p50 from a normal matching its CI; without, from resampling agents.
    With no P50_TABLE (or 'metr') the horizons are first computed from the public METR
    runs shipped with rdbench, and the trend uses their joint bootstrap.
    """
    import pandas as pd

    from rdbench.stats import fit_trend

    thresholds = thresholds_minutes(threshold)
    samples = attempts = None
    public = p50_table in (None, "metr") and not (p50_table and Path(p50_table).exists())
    if public:
        from rdbench.records import load_attempts
        from rdbench.stats import fit_horizons

        attempts, _, _ = load_attempts("metr")
        result = fit_horizons(attempts, n_bootstrap=n_bootstrap, seed=seed)
        table, samples = result.table, result.samples
    else:
        table = read_p50_table(p50_table)
    dates = release_dates_for(release_dates_path, attempts)
    if dates is None:
        raise UserError("give --release-dates FILE (agent -> release date)")
    try:
        result_trend = fit_trend(
            table,
            dates,
            samples=samples,
            thresholds_minutes=thresholds,
            n_bootstrap=n_bootstrap,
            seed=seed,
            lenient=not strict_names,
            include_extrapolated=include_extrapolated,
        )
    except ValueError as ex:
        raise UserError(str(ex)) from None
    for message in result_trend.warnings:
        warn(message)
    console = make_console(json_out)
    from rich.table import Table

    out = Table(title="Horizons used", title_justify="left")
    for col in ("agent", "released", "p50", "CI", "in trend"):
        out.add_column(col)
    merged = result_trend.agents.merge(table.drop(columns=["p50"]), on="agent", how="left")
    for row in merged.sort_values("release_date", na_position="last").itertuples():
        out.add_row(
            row.agent,
            str(row.release_date.date()) if pd.notna(row.release_date) else "-",
            fmt_minutes(row.p50),
            fmt_ci(getattr(row, "p50_low", float("nan")), getattr(row, "p50_high", float("nan"))),
            "yes" if row.used else f"no: {row.reason}",
        )
    console.print(out)
    print_trend(console, result_trend)
    if json_out:
        write_json(
            json_out,
            {
                "method": result_trend.method,
                "slope_ln_per_year": result_trend.slope,
                "doubling_time_days": result_trend.doubling_time_days,
                "doubling_time_days_low": result_trend.doubling_time_low,
                "doubling_time_days_high": result_trend.doubling_time_high,
                "r_squared": result_trend.r_squared,
                "n_bootstrap": result_trend.n_bootstrap,
                "n_dropped": result_trend.n_dropped,
                "agents": result_trend.agents,
                "forecasts": result_trend.forecasts,
                "warnings": result_trend.warnings,
            },
        )
