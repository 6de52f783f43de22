"""Transcript review: monitors that read every attempt's log and say what they found.

Rule monitors (``rdbench.review.rules``) are deterministic functions over a flattened
transcript (``rdbench.review.transcript``); their findings carry evidence (the message
index and the triggering lines). ``rdbench.review.store`` runs them over logs and keeps
the results beside each log; ``rdbench.review.corpus`` is the labelled corpus they are
measured on (``bench/monitors.py``).
"""

from rdbench.review.findings import MONITOR_KINDS, Finding, Kind
from rdbench.review.measure import clopper_pearson, monitor_rates
from rdbench.review.rules import RULE_MONITORS, run_rules
from rdbench.review.store import (
    RESULTS_SUFFIX,
    AttemptReview,
    LogReview,
    find_logs,
    monitors_version,
    results_path,
    review_log,
    write_results,
)
from rdbench.review.transcript import (
    Action,
    FamilyFiles,
    ReviewInputError,
    Transcript,
    Utterance,
    family_files,
    read_transcripts,
    transcript_from_sample,
)

__all__ = [
    "MONITOR_KINDS",
    "RESULTS_SUFFIX",
    "RULE_MONITORS",
    "Action",
    "AttemptReview",
    "FamilyFiles",
    "Finding",
    "Kind",
    "LogReview",
    "ReviewInputError",
    "Transcript",
    "Utterance",
    "clopper_pearson",
    "family_files",
    "find_logs",
    "monitor_rates",
    "monitors_version",
    "read_transcripts",
    "results_path",
    "review_log",
    "run_rules",
    "transcript_from_sample",
    "write_results",
]
