"""The HTML report: figures and tables laid out from what ``rdbench.stats`` computes.

Public API:

- :func:`write_report` -- Attempt (+ trajectory) tables -> one self-contained HTML page.
- :func:`build_report` / :func:`rdbench.report.page.render_page` -- the same in two steps.
- :mod:`rdbench.report.figures` -- one pure function per figure, from tidy DataFrames.
- :mod:`rdbench.report.tables` -- the per-family table and the attempt list.

matplotlib is imported only when a report is built.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["write_report", "build_report", "DEFAULT_THRESHOLD_MINUTES"]

DEFAULT_THRESHOLD_MINUTES = 480.0


def write_report(*args: Any, **kwargs: Any) -> Path:
    """Write the HTML report; see :func:`rdbench.report.build.write_report`.

    Returns:
        The path written.

    Raises:
        RecordsError: the tables do not match the Attempt/trajectory schemas.
    """
    from rdbench.report.build import write_report as _write

    return _write(*args, **kwargs)


def build_report(*args: Any, **kwargs: Any):
    """Compute the report's sections; see :func:`rdbench.report.build.build_report`.

    Returns:
        A :class:`rdbench.report.build.Report`.
    """
    from rdbench.report.build import build_report as _build

    return _build(*args, **kwargs)
