"""The status of a fitted time horizon: one enum, each value with its explanation."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["HorizonStatus"]


class HorizonStatus(StrEnum):
    """Why a horizon is (or is not) a number. Values equal their strings (``"ok"``, ...),
    so tables keep plain strings and old JSON output compares equal."""

    OK = "ok"
    INCREASING = "increasing"
    NO_SUCCESS = "no_success"
    ALL_SUCCESS = "all_success"
    NO_DATA = "no_data"

    @property
    def has_horizon(self) -> bool:
        """Return True when p50/p80 are numbers (``ok`` or ``increasing``)."""
        return self in (HorizonStatus.OK, HorizonStatus.INCREASING)

    @property
    def explanation(self) -> str:
        """Return one sentence saying what the status means ("" for ``ok``)."""
        return _EXPLANATIONS[self]

    @property
    def short(self) -> str:
        """Return the few words a table shows instead of a horizon it cannot give."""
        return _SHORT[self]


_EXPLANATIONS = {
    HorizonStatus.OK: "",
    HorizonStatus.INCREASING: "fitted success rate does not fall with task length",
    HorizonStatus.NO_SUCCESS: "no success at all: horizon below the measurable range",
    HorizonStatus.ALL_SUCCESS: "every run succeeded: horizon above the measurable range",
    HorizonStatus.NO_DATA: "no runs with weight: no horizon",
}
_SHORT = {
    HorizonStatus.OK: "",
    HorizonStatus.INCREASING: "increasing",
    HorizonStatus.NO_SUCCESS: "below range",
    HorizonStatus.ALL_SUCCESS: "above range",
    HorizonStatus.NO_DATA: "no data",
}
