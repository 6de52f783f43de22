"""The public METR run data shipped with rdbench, and release-date files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from rdbench.errors import RecordsError

__all__ = [
    "PUBLIC_DATASET",
    "public_data_dir",
    "public_runs_path",
    "public_release_dates_path",
    "read_release_dates",
    "default_release_dates",
]

# The name that stands for the shipped data wherever an input path is expected.
PUBLIC_DATASET = "metr"


def public_data_dir() -> Path:
    """Folder of METR's public runs (January 2025 snapshot, MIT, (c) 2025 METR).

    Returns:
        The directory holding ``runs.jsonl``, ``release_dates.yaml``, README and LICENSE.
    """
    return Path(__file__).resolve().parent.parent / "data" / "metr-runs-2025-01"


def public_runs_path() -> Path:
    """Path of the shipped METR ``runs.jsonl`` (7,063 runs, 10 agents + human baselines).

    Returns:
        The file path.
    """
    return public_data_dir() / "runs.jsonl"


def public_release_dates_path() -> Path:
    """Path of the shipped ``release_dates.yaml`` (alias -> model release date).

    Returns:
        The file path.
    """
    return public_data_dir() / "release_dates.yaml"


def read_release_dates(path: str | Path) -> dict[str, pd.Timestamp]:
    """Read model release dates: METR's YAML (``date: {alias: YYYY-MM-DD}``), a flat YAML
    mapping, or a CSV with columns ``agent`` and ``release_date``.

    Returns:
        agent -> release date.

    Raises:
        RecordsError: unreadable file, wrong shape, or an unparseable date.
    """
    path = Path(path)
    try:
        if path.suffix.lower() == ".csv":
            df = pd.read_csv(path)
            if not {"agent", "release_date"} <= set(df.columns):
                raise RecordsError(f"{path}: needs columns agent, release_date")
            mapping = dict(zip(df["agent"].astype(str), df["release_date"]))
        else:
            import yaml

            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and isinstance(data.get("date"), dict):
                data = data["date"]
            if not isinstance(data, dict):
                raise RecordsError(f"{path}: expected a mapping 'date: {{agent: YYYY-MM-DD}}'")
            mapping = {str(k): v for k, v in data.items()}
    except RecordsError:
        raise
    except FileNotFoundError:
        raise RecordsError(f"{path}: no such file") from None
    except Exception as ex:
        raise RecordsError(f"{path}: cannot read release dates ({ex})") from None
    out = {}
    for agent, value in mapping.items():
        try:
            out[agent] = pd.Timestamp(str(value))
        except ValueError:
            raise RecordsError(f"{path}: bad date {value!r} for {agent!r}") from None
    return out


def default_release_dates(attempts: pd.DataFrame) -> dict | None:
    """The release-dates rule, in one place: the dates shipped with the public METR runs
    when those runs are among the attempts (they belong together), else None.

    Args:
        attempts: the Attempt table (its ``source`` column is compared with the shipped
            runs file).

    Returns:
        ``{agent: date}`` or None.

    Raises:
        RecordsError: the shipped file cannot be read.
    """
    public = public_runs_path().resolve()
    for source in attempts["source"].dropna().astype(str).unique():
        try:
            if Path(source).resolve() == public:
                return read_release_dates(public_release_dates_path())
        except OSError:
            continue
    return None
