"""Crashed attempts, as `rdbench run`, `demo` and `baseline` report them.

An attempt that crashes keeps its full traceback in its Inspect log (for `inspect view`);
the terminal gets one readable line per crashed attempt: the error's message and the log
it is in, never the repr of Inspect's `EvalError`. A command whose attempts crashed
exits with status 1 after its summary; when every attempt crashed it says so first.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

CRASH_EXIT_CODE = 1
"""Exit status of a command in which at least one attempt crashed."""

MAX_MESSAGE_CHARS = 300
"""Longest error message shown for one attempt (the whole message stays in the log)."""

MAX_LINES = 20
"""Crashed attempts listed one per line; the rest are counted in one more line."""

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_REPR = re.compile(r"^([A-Za-z_][\w.]*)\((.*)\)$", re.DOTALL)


def one_line(message: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Return an error message as one readable line of at most `limit` characters.

    Inspect records an exception as its repr (`SandboxUnavailable("cannot run bwrap")`):
    that becomes `SandboxUnavailable: cannot run bwrap`. Terminal escape codes are
    dropped, whitespace (newlines included) collapses to single spaces, and a longer
    message is cut with an ellipsis.

    Returns:
        The line (`"unknown error"` for an empty message).
    """
    text = _ANSI.sub("", message).strip()
    match = _REPR.match(text)
    if match is not None:
        try:
            inner = ast.literal_eval(match.group(2))
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            inner = None
        if isinstance(inner, str):
            name = match.group(1).rsplit(".", 1)[-1]
            text = f"{name}: {inner}" if inner.strip() else name
    text = " ".join(text.split()) or "unknown error"
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


@dataclass(frozen=True)
class Crash:
    """One crashed attempt (or, when the eval itself failed, the attempts it took down).

    Attributes:
        task: The Inspect task (the family).
        sample: The sample id (the task id), or "" when the eval failed outside a sample.
        epoch: The attempt's epoch, or None when the eval failed outside a sample.
        message: The error message, as one line.
        log: Where the log with the full traceback is.
        attempts: Attempts this entry stands for (more than 1 only for a failed eval).
    """

    task: str
    sample: str
    epoch: int | None
    message: str
    log: str
    attempts: int = 1

    def line(self) -> str:
        """Return the crash as one line: which attempt, its message, its log."""
        if self.sample:
            which = self.sample if self.epoch is None else f"{self.sample} (attempt {self.epoch})"
            return f"{which} crashed: {self.message} [log: {self.log}]"
        return (
            f"{self.task}: the eval failed, {self.attempts} attempt(s) did not finish: "
            f"{self.message} [log: {self.log}]"
        )


@dataclass(frozen=True)
class AttemptOutcomes:
    """How the attempts of one command ended: how many there were, which crashed."""

    attempts: int
    crashes: tuple[Crash, ...]
    log_dirs: tuple[str, ...]

    @property
    def crashed(self) -> int:
        """Return the number of attempts that crashed."""
        return sum(crash.attempts for crash in self.crashes)

    @property
    def any_crashed(self) -> bool:
        """Return True when at least one attempt crashed."""
        return self.crashed > 0

    @property
    def all_crashed(self) -> bool:
        """Return True when there were attempts and every one of them crashed."""
        return self.attempts > 0 and self.crashed >= self.attempts

    def headline(self) -> str | None:
        """Return the line said before the summary when every attempt crashed, else None."""
        if not self.all_crashed:
            return None
        if self.attempts == 1:
            return "the only attempt crashed; its error follows the summary"
        return (
            f"every attempt crashed ({self.attempts} of {self.attempts}); "
            "their errors follow the summary"
        )

    def lines(self, max_lines: int = MAX_LINES) -> list[str]:
        """Return the report said after the summary: a count, one line per crashed attempt
        (at most `max_lines`, then how many more) and where the tracebacks are.

        Returns:
            The lines; empty when nothing crashed.
        """
        if not self.any_crashed:
            return []
        out = [f"{self.crashed} of {self.attempts} attempt(s) crashed:"]
        out += [f"  {crash.line()}" for crash in self.crashes[:max_lines]]
        if len(self.crashes) > max_lines:
            out.append(f"  ... and {len(self.crashes) - max_lines} more (see the logs)")
        for log_dir in self.log_dirs:
            out.append(f"full tracebacks: inspect view --log-dir {log_dir}")
        return out

    @property
    def exit_code(self) -> int:
        """Return the command's exit status: 1 when any attempt crashed, else 0."""
        return CRASH_EXIT_CODE if self.any_crashed else 0


def _planned_attempts(log: Any) -> int:
    """Return the attempts the log's eval was meant to run (samples x epochs)."""
    samples = getattr(log.eval.dataset, "samples", None) or 0
    epochs = getattr(log.eval.config, "epochs", None) or 1
    return int(samples) * int(epochs)


def _sample_errors(log: Any) -> list[tuple[str, int | None, str | None]]:
    """Return (sample id, epoch, error message or None) for each attempt the log holds."""
    if log.samples:
        return [
            (str(s.id), s.epoch, s.error.message if s.error is not None else None)
            for s in log.samples
        ]
    from inspect_ai.log import read_eval_log_sample_summaries

    try:
        summaries = read_eval_log_sample_summaries(log.location)
    except Exception:  # noqa: BLE001 - an unreadable log: count what its header says
        return []
    return [(str(s.id), s.epoch, s.error) for s in summaries]


def outcomes(logs: Iterable[Any]) -> AttemptOutcomes:
    """Return how the attempts in Inspect `EvalLog`s ended.

    Each sample with an error is one crash. A log whose eval failed (status `error` or
    `cancelled`) with attempts unaccounted for adds one crash standing for those attempts,
    with the eval's own error message.

    Returns:
        The attempts, the crashes (in log order) and the log folders holding them.
    """
    attempts = 0
    crashes: list[Crash] = []
    log_dirs: list[str] = []
    for log in logs:
        location = str(log.location or "")
        task = str(log.eval.task).split("/")[-1]
        samples = _sample_errors(log)
        planned = max(_planned_attempts(log), len(samples))
        attempts += planned
        sample_crashes = [
            Crash(task, sample, epoch, one_line(message), location)
            for sample, epoch, message in samples
            if message is not None
        ]
        crashes += sample_crashes
        unfinished = planned - len(samples)
        if log.status in ("error", "cancelled") and (unfinished > 0 or not sample_crashes):
            if log.error is not None:
                message = one_line(log.error.message)
            else:
                message = f"the eval ended with status {log.status}"
            crashes.append(Crash(task, "", None, message, location, max(unfinished, 1)))
        if crashes and crashes[-1].log == location:
            folder = os.path.dirname(location) or "."
            if folder not in log_dirs:
                log_dirs.append(folder)
    return AttemptOutcomes(attempts, tuple(crashes), tuple(log_dirs))


def say_headline(result: AttemptOutcomes, echo: Callable[[str], None]) -> None:
    """Say, before the summary, that every attempt crashed (nothing otherwise)."""
    headline = result.headline()
    if headline is not None:
        echo(headline)


def say_crashes(result: AttemptOutcomes, echo: Callable[[str], None]) -> None:
    """Say, after the summary, which attempts crashed and where their tracebacks are."""
    for line in result.lines():
        echo(line)


def exit_if_crashed(result: AttemptOutcomes) -> None:
    """End the command with status 1 when any attempt crashed.

    Raises:
        SystemExit: with status 1, when any attempt crashed.
    """
    if result.any_crashed:
        raise SystemExit(CRASH_EXIT_CODE)


def crash_echo() -> Callable[[str], None]:
    """Return a function that prints one line in red (plain when not a terminal) on stdout,
    where the summary it goes with is printed, flushed so that the two stay in order."""
    import sys

    import click

    def echo(line: str) -> None:
        sys.stdout.flush()
        click.secho(line, fg="red")
        sys.stdout.flush()

    return echo
