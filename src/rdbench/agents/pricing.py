"""Token prices: the shipped table, user overrides, and handing them to Inspect.

Inspect prices every model call from the model's `ModelCost` and records it as
`ModelUsage.total_cost` in each sample's `model_usage`; rdbench only supplies the prices
(`rdbench/data/prices.yaml`, overridable with `rdbench run --prices FILE`) and stores the
price it used in the log (eval metadata `rdbench_prices`, see docs/log-format.md).
"""

from __future__ import annotations

import fnmatch
import math
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from rdbench.errors import UserError
from rdbench.logschema import usage_cost  # noqa: F401 - re-exported (the one pricing rule)

PRICE_FIELDS = ("input", "output", "input_cache_read", "input_cache_write")


def default_prices_path() -> Path:
    """Return the path of the price table shipped with rdbench."""
    return Path(str(resources.files("rdbench") / "data" / "prices.yaml"))


def _read_table(path: Path) -> dict[str, dict[str, float]]:
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as ex:
        raise UserError(f"cannot read price file {path}: {ex.strerror or ex}") from ex
    except yaml.YAMLError as ex:
        raise UserError(f"price file {path} is not valid YAML: {str(ex).splitlines()[0]}") from ex
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(f"price file {path}: expected a mapping of model name -> prices")
    table: dict[str, dict[str, float]] = {}
    for model, entry in data.items():
        table[str(model)] = _validate_entry(path, str(model), entry)
    return table


def _validate_entry(path: Path, model: str, entry: Any) -> dict[str, float]:
    if not isinstance(entry, dict) or "input" not in entry or "output" not in entry:
        raise UserError(
            f"price file {path}: {model!r} needs 'input' and 'output' (USD per million tokens)"
        )
    unknown = set(entry) - set(PRICE_FIELDS)
    if unknown:
        raise UserError(
            f"price file {path}: {model!r} has unknown field(s) {', '.join(sorted(unknown))} "
            f"(allowed: {', '.join(PRICE_FIELDS)})"
        )
    prices: dict[str, float] = {}
    for key in PRICE_FIELDS:
        value = entry.get(key, entry["input"] if key.startswith("input_cache") else None)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise UserError(
                f"price file {path}: {model!r} {key} is not a number: {value!r}"
            ) from None
        if not (math.isfinite(number) and number >= 0):
            raise UserError(f"price file {path}: {model!r} {key} must be >= 0, not {value!r}")
        prices[key] = number
    return prices


def load_prices(override: Path | str | None = None) -> dict[str, dict[str, float]]:
    """Return the price table: the shipped one with `override`'s entries laid over it.

    Args:
        override: A YAML file of `model: {input, output, input_cache_read, input_cache_write}`
            in USD per million tokens.

    Returns:
        Model name or pattern -> prices (all four fields filled).

    Raises:
        UserError: a file cannot be read or an entry is malformed (one line naming it).
    """
    table = _read_table(default_prices_path())
    if override is not None:
        # The user's entries come first so that their patterns win over shipped ones.
        user = _read_table(Path(override))
        table = {**user, **{k: v for k, v in table.items() if k not in user}}
    return table


def price_for(model: str, table: dict[str, dict[str, float]]) -> dict[str, float] | None:
    """Return the prices of `model`: an exact entry, else the first matching pattern, else None."""
    if model in table:
        return table[model]
    for key, prices in table.items():
        if any(ch in key for ch in "*?[") and fnmatch.fnmatchcase(model, key):
            return prices
    return None


def register_prices(model: str, prices: dict[str, float]) -> None:
    """Give Inspect the prices of `model`, so it records `total_cost` for every call."""
    from inspect_ai.model import ModelCost, ModelInfo, get_model_info, set_model_info

    cost = ModelCost(**{key: prices[key] for key in PRICE_FIELDS})
    known = get_model_info(model)
    info = known.model_copy(update={"cost": cost}) if known is not None else ModelInfo(cost=cost)
    set_model_info(model, info)


