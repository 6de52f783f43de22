"""Parse a model's answer and check it exactly against the problem's.

Models are asked to end with a line ``ANSWER: <answer>`` (for code: one fenced Python
block). Numbers are compared with the problem's tolerance, expressions by sympy
equivalence, sets as sets of names, and code by the problem's hidden unit tests, which run
in a one-shot jail (`rdbench.sandbox`): the candidate's outputs come back to the host and
are compared there, so the expected outputs never enter the jail.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rdbench.crosscheck.problems import Problem

__all__ = [
    "Check", "answer_key", "check_answer", "code_outputs", "extract_answer", "outputs_correct",
    "run_code_tests",
]

_ANSWER = re.compile(r"\bANSWER\s*\**\s*:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
_CODE = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.DOTALL)
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?(?:\s*/\s*\d+)?")
_MAX_CODE = 20_000
_CODE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Check:
    """The verdict on one answer.

    Attributes:
        parsed: the answer as extracted from the text ('' when none could be).
        parse_ok: an answer in the expected form was found.
        correct: it equals the problem's answer (False when unparsable).
        detail: a short reason, for the log (never the expected answer).
    """

    parsed: str
    parse_ok: bool
    correct: bool
    detail: str = ""


def extract_answer(text: str, problem: Problem) -> str | None:
    """The answer in a model's reply: the last fenced code block for code problems, else
    the text after the last ``ANSWER:`` line. Returns None when there is none."""
    if problem.kind == "code":
        blocks = _CODE.findall(text or "")
        if blocks:
            return blocks[-1].strip()
        return text.strip() if (text or "").lstrip().startswith("def ") else None
    found = _ANSWER.findall(text or "")
    return found[-1].strip().strip("`$") if found else None


def _to_number(text: str) -> float | None:
    match = _NUMBER.search(text.replace(",", ""))
    if match is None:
        return None
    token = match.group(0).replace(" ", "")
    try:
        if "/" in token:
            num, den = token.split("/")
            return float(num) / float(den)
        return float(token)
    except (ValueError, ZeroDivisionError):
        return None


def _names(text: str) -> frozenset[str]:
    words = re.split(r"[,;]|\band\b", text.lower())
    names = {w.strip(" .{}[]()'\"") for w in words}
    names.discard("")
    return frozenset() if names <= {"none", "nobody", "no one"} else frozenset(names)


def answer_key(text: str | None, problem: Problem) -> str | None:
    """A canonical form of an answer, so that equal answers compare equal (for majority
    votes): rounded numbers, sorted names, simplified expressions, stripped code.
    Returns None for no or an unparsable answer."""
    if text is None:
        return None
    if problem.kind == "number":
        value = _to_number(text)
        return None if value is None or not math.isfinite(value) else f"{value:.6g}"
    if problem.kind == "set":
        return ",".join(sorted(_names(text))) or "none"
    if problem.kind == "expression":
        expr = _sympify(text)
        return None if expr is None else str(expr)
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def _sympify(text: str):
    import sympy as sp

    cleaned = text.replace("^", "**").split("=")[-1].strip()
    try:
        return sp.simplify(sp.sympify(cleaned, locals={"x": sp.Symbol("x"), "e": sp.E}))
    except (sp.SympifyError, SyntaxError, TypeError, ValueError, AttributeError):
        return None


def check_answer(text: str, problem: Problem) -> Check:
    """Check a model's reply against the problem's answer.

    Returns:
        A :class:`Check`; an unparsable reply is ``parse_ok=False, correct=False``.
    """
    raw = extract_answer(text, problem)
    if raw is None:
        return Check("", False, False, "no answer found")
    if problem.kind == "number":
        value = _to_number(raw)
        if value is None:
            return Check(raw, False, False, "not a number")
        expected = float(problem.answer)
        tol = problem.tolerance * max(1.0, abs(expected))
        return Check(raw, True, abs(value - expected) <= tol)
    if problem.kind == "set":
        return Check(raw, True, _names(raw) == _names(problem.answer))
    if problem.kind == "expression":
        import sympy as sp

        got = _sympify(raw)
        if got is None:
            return Check(raw, False, False, "not an expression in x")
        try:
            equal = sp.simplify(got - _sympify(problem.answer)) == 0
        except Exception:  # sympy raises many kinds on odd input
            equal = False
        return Check(raw, True, bool(equal))
    passed, detail = run_code_tests(raw, problem)
    return Check(raw, passed is not None, bool(passed), detail)


_RUNNER = r'''
import json, os, sys
real_stdout = os.dup(1)
os.dup2(2, 1)  # the candidate's prints go to stderr, never into the results
tests = json.load(open("tests.json"))
results = []
try:
    namespace = {}
    exec(compile(open("candidate.py").read(), "candidate.py", "exec"), namespace)
    function = namespace[sys.argv[1]]
except BaseException as ex:
    results = {"error": type(ex).__name__}
else:
    for args in tests:
        try:
            results.append(["ok", function(*args)])
        except BaseException as ex:
            results.append(["raised", type(ex).__name__])
os.write(real_stdout, json.dumps(results, default=repr).encode())
'''


def _jsonable(value):
    return json.loads(json.dumps(value, default=repr))


def code_outputs(code: str, problem: Problem) -> tuple[list | None, str]:
    """Run the candidate function on the problem's hidden test inputs in a jail.

    Returns:
        ``(outputs, detail)``: one ``[status, value]`` per test (status ``ok`` or
        ``raised``), or None when the candidate could not be run at all (no such function,
        a syntax error, a time-out, unreadable results).
    """
    from rdbench.sandbox import JailSpec, run_jailed

    if len(code) > _MAX_CODE:
        return None, "code longer than 20,000 characters"
    with tempfile.TemporaryDirectory(prefix="rdbench-crosscheck-") as tmp:
        work = Path(tmp)
        (work / "candidate.py").write_text(code)
        (work / "runner.py").write_text(_RUNNER)
        (work / "tests.json").write_text(json.dumps([list(args) for args, _ in problem.tests]))
        spec = JailSpec(workspace=work, memory_mb=1024, max_processes=16)
        try:
            proc = run_jailed(spec, [sys.executable, "-I", "-S", "runner.py", problem.function],
                              timeout=_CODE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return None, "timed out"
    try:
        results = json.loads(proc.stdout.decode() or "null")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None, "no readable results"
    if isinstance(results, dict):
        return None, f"could not load {problem.function}: {results.get('error', '?')}"
    if not isinstance(results, list) or len(results) != len(problem.tests):
        return None, "no readable results"
    return results, ""


def outputs_correct(outputs: list, problem: Problem) -> bool:
    """Whether the outputs of :func:`code_outputs` equal the expected ones (on the host)."""
    return all(
        status == "ok" and value == _jsonable(expected)
        for (status, value), (_, expected) in zip(outputs, problem.tests)
    )


def run_code_tests(code: str, problem: Problem) -> tuple[bool | None, str]:
    """Run the hidden unit tests on a candidate (see :func:`code_outputs`).

    Returns:
        ``(passed, detail)``: passed is None when the candidate could not be run at all.
    """
    outputs, detail = code_outputs(code, problem)
    if outputs is None:
        return (False if detail == "timed out" else None), detail
    if not outputs_correct(outputs, problem):
        return False, "a hidden test failed"
    return True, f"{len(problem.tests)} hidden tests passed"
