"""Exact answer checks: tolerance, names, sympy equivalence, code in a jail."""

from __future__ import annotations

import dataclasses
import json

from rdbench.crosscheck.checking import answer_key, check_answer, code_outputs
from rdbench.crosscheck.problems import generate_problem


def _problem(domain: str, kind: str, **changes):
    for index in range(60):
        p = generate_problem(domain, index, seed=0)  # type: ignore[arg-type]
        if p.kind == kind:
            return dataclasses.replace(p, **changes)
    raise AssertionError(f"no {kind} problem in {domain}")


def test_numbers_within_tolerance_only():
    p = _problem("geometry", "number", answer="12.5")
    assert check_answer("ANSWER: 12.5000001", p).correct
    assert check_answer("so... ANSWER: 25/2", p).correct
    assert not check_answer("ANSWER: 12.6", p).correct
    assert not check_answer("ANSWER: about twelve", p).parse_ok
    assert not check_answer("12.5", p).parse_ok  # no ANSWER line: unparsable, counted
    assert check_answer("ANSWER: 1\nwait, no\nANSWER: 12.5", p).correct  # the last one


def test_sets_ignore_order_and_case():
    p = _problem("logic", "set", answer="Ada, Cy")
    assert check_answer("ANSWER: cy and ada", p).correct
    assert not check_answer("ANSWER: Ada", p).correct
    none = dataclasses.replace(p, answer="none")
    assert check_answer("ANSWER: nobody", none).correct


def test_expressions_by_sympy_equivalence():
    p = _problem("calculus", "expression", answer="2*x*cos(x**2)")
    assert check_answer("ANSWER: cos(x^2)*x*2", p).correct
    assert check_answer("ANSWER: f'(x) = 2*x*cos(x**2)", p).correct
    assert not check_answer("ANSWER: 2*x*sin(x**2)", p).correct
    assert not check_answer("ANSWER: )(", p).parse_ok
    assert answer_key("ANSWER: x*x", p) == answer_key("ANSWER: x**2", p)


def test_code_runs_hidden_tests_in_a_jail_and_cannot_forge_results():
    p = _problem("coding", "code")
    good = f"```python\n{p.answer}```"
    assert check_answer(good, p).correct
    wrong = f"```python\ndef {p.function}(*args):\n    return None\n```"
    assert not check_answer(wrong, p).correct
    # printing a fake results line goes to stderr, not into the results
    forged = ("```python\nimport os\nos.write(1, b'[]')\nprint('[[\"ok\", 1]]')\n"
              f"def {p.function}(*args):\n    return None\n```")
    assert not check_answer(forged, p).correct
    broken = "```python\ndef nope(:\n```"
    result = check_answer(broken, p)
    assert not result.correct and not result.parse_ok
    # what the jail sees holds the inputs only: a candidate that reads every file it can
    # find next to it returns no expected output
    peek = ("import os\n"
            f"def {p.function}(*args):\n"
            "    return {n: open(n).read() for n in sorted(os.listdir('.'))}\n")
    outputs, _ = code_outputs(peek, p)
    seen = outputs[0][1]
    assert sorted(seen) == ["candidate.py", "runner.py", "tests.json"]
    assert json.loads(seen["tests.json"]) == [list(args) for args, _ in p.tests]
