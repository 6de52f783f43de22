"""Generated technical problems in six domains, each with an exactly checkable answer.

Every problem is made from a seed by a generator of its domain (logic, numeracy, geometry,
calculus, statistics, coding) at a difficulty 1-3, so a suite is new for every seed and
cannot be memorized; the same seed always gives the same suite. A problem carries its
answer (and for coding, hidden test inputs and expected outputs): these never reach a
model, only the scorer.

Answer kinds:
- ``number``: a real number, checked with the problem's relative/absolute ``tolerance``;
- ``expression``: a symbolic expression in ``x``, checked for equivalence with sympy;
- ``set``: a comma-separated set of names, order and case ignored;
- ``code``: a Python function, checked by hidden unit tests run in a jail.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

import numpy as np

__all__ = ["DOMAINS", "AnswerKind", "Problem", "generate_problem", "generate_suite"]

Domain = Literal["logic", "numeracy", "geometry", "calculus", "statistics", "coding"]
AnswerKind = Literal["number", "expression", "set", "code"]
DOMAINS: tuple[Domain, ...] = (
    "logic", "numeracy", "geometry", "calculus", "statistics", "coding",
)


@dataclass(frozen=True)
class Problem:
    """One generated problem.

    Attributes:
        id: stable id, ``cc-<domain>-<seed>-<index>``.
        domain, difficulty (1 easy .. 3 hard), seed: how it was made.
        prompt: the question shown to a model (without the answer-format instructions).
        kind: how the answer is checked (see the module docstring).
        answer: the correct answer, as text (for code: the reference solution).
        tolerance: for numbers, the relative tolerance (absolute below 1e-9 magnitude).
        function: for code, the name of the function to write.
        tests: for code, hidden test inputs (argument tuples) and expected outputs.
    """

    id: str
    domain: Domain
    difficulty: int
    seed: int
    prompt: str
    kind: AnswerKind
    answer: str
    tolerance: float = 1e-6
    function: str = ""
    tests: tuple[tuple[tuple[Any, ...], Any], ...] = field(default=(), repr=False)

    def public(self) -> dict[str, Any]:
        """Return what may be shown or stored in a sample's metadata (no answer, no tests)."""
        return {"problem_id": self.id, "domain": self.domain, "difficulty": self.difficulty,
                "seed": self.seed, "kind": self.kind, "function": self.function}


# ------------------------------------------------------------------ logic

_NAMES = ("Ada", "Bo", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jo")


def _holds(world: tuple[bool, ...], form: int, j: int, k: int) -> bool:
    if form == 0:
        return world[j]
    if form == 1:
        return not world[j]
    if form == 2:
        return world[j] == world[k]
    return world[j] or world[k]


_STATEMENTS = {
    0: "{j} is a knight.",
    1: "{j} is a knave.",
    2: "{j} and {k} are of the same kind.",
    3: "At least one of {j} and {k} is a knight.",
}


def _logic(rng: np.random.Generator, difficulty: int) -> tuple[str, str, str]:
    """Knights (always truthful) and knaves (always lying) with a unique solution.

    A hidden assignment is drawn first and every statement is drawn consistent with it
    (a knight's statement true, a knave's false), so a solution always exists; draws are
    repeated until it is the only one.
    """
    n = 2 + difficulty  # 3..5 islanders
    names = [str(v) for v in rng.choice(_NAMES, size=n, replace=False)]
    for _ in range(2000):
        world = tuple(bool(v) for v in rng.random(n) < 0.5)
        statements = []
        for i in range(n):
            while True:
                j, k = (int(v) for v in rng.choice([t for t in range(n) if t != i], size=2,
                                                     replace=False))
                form = int(rng.integers(4))
                if _holds(world, form, j, k) == world[i]:
                    statements.append((i, form, j, k))
                    break
        solutions = [
            w for w in itertools.product((True, False), repeat=n)
            if all(w[i] == _holds(w, form, j, k) for i, form, j, k in statements)
        ]
        if solutions == [world]:
            break
    else:  # pragma: no cover - 2000 draws without a unique puzzle has not been seen
        raise RuntimeError("could not draw a knights-and-knaves puzzle with one solution")
    lines = [f'{names[i]} says: "' + _STATEMENTS[form].format(j=names[j], k=names[k]) + '"'
             for i, form, j, k in statements]
    prompt = (
        "On an island, knights always tell the truth and knaves always lie. Every islander "
        f"is one or the other. {', '.join(names)} each make one statement:\n"
        + "\n".join(lines)
        + "\nWhich of them are knights? Give the set of names (comma-separated; 'none' if "
        "there are no knights)."
    )
    knights = [names[i] for i in range(n) if world[i]]
    return prompt, ", ".join(sorted(knights)) or "none", "set"


# ------------------------------------------------------------------ numeracy


def _numeracy(rng: np.random.Generator, difficulty: int) -> tuple[str, str, str]:
    form = int(rng.integers(3))
    if form == 0:  # nested fractions, exact
        terms = [Fraction(int(rng.integers(1, 20)), int(rng.integers(2, 13)))
                 for _ in range(2 + difficulty)]
        ops = [str(rng.choice(["+", "-", "*"])) for _ in range(len(terms) - 1)]
        expr, value = f"({terms[0]})", terms[0]
        for op, term in zip(ops, terms[1:]):
            expr += f" {op} ({term})"
            value = value + term if op == "+" else value - term if op == "-" else value * term
        return (f"Compute exactly, left to right (ignore the usual precedence): {expr}. "
                "Give a decimal number.", repr(float(value)), "number")
    if form == 1:  # modular exponentiation
        base, exp = int(rng.integers(2, 50)), int(rng.integers(10, 10 ** (2 + difficulty)))
        mod = int(rng.integers(7, 10 ** (1 + difficulty)))
        return (f"What is {base}^{exp} mod {mod}?", str(pow(base, exp, mod)), "number")
    # compounding percentages
    start = int(rng.integers(100, 10000))
    changes = [int(rng.integers(-30, 40)) for _ in range(2 + difficulty)]
    value = float(start)
    for c in changes:
        value *= 1 + c / 100
    steps = ", then ".join(f"{'+' if c >= 0 else ''}{c}%" for c in changes)
    return (f"A quantity starts at {start} and changes by {steps} (each change applies to "
            "the current value). What is its final value?", repr(value), "number")


# ------------------------------------------------------------------ geometry


def _geometry(rng: np.random.Generator, difficulty: int) -> tuple[str, str, str]:
    form = int(rng.integers(3))
    if form == 0:  # area of a convex polygon with integer vertices
        n = 3 + difficulty
        while True:
            pts = rng.integers(-20, 21, size=(n, 2))
            centre = pts.mean(axis=0)
            order = np.argsort(np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0]))
            pts = pts[order]
            x, y = pts[:, 0].astype(float), pts[:, 1].astype(float)
            area = 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
            if area > 1 and len({tuple(p) for p in pts}) == n:
                break
        verts = ", ".join(f"({int(a)}, {int(b)})" for a, b in pts)
        return (f"What is the area of the polygon with vertices {verts}, in this order?",
                repr(float(area)), "number")
    if form == 1:  # distance from a point to a line
        a, b = (int(v) for v in rng.integers(1, 12, size=2) * rng.choice([-1, 1], size=2))
        c = int(rng.integers(-30, 31))
        px, py = (int(v) for v in rng.integers(-15, 16, size=2))
        dist = abs(a * px + b * py + c) / math.hypot(a, b)
        return (f"What is the distance from the point ({px}, {py}) to the line "
                f"{a}x + {b}y + {c} = 0?", repr(dist), "number")
    # inradius of a triangle from its sides
    while True:
        sides = sorted(int(v) for v in rng.integers(3, 10 * difficulty + 10, size=3))
        if sides[0] + sides[1] > sides[2]:
            break
    s = sum(sides) / 2
    area = math.sqrt(s * (s - sides[0]) * (s - sides[1]) * (s - sides[2]))
    return (f"A triangle has sides {sides[0]}, {sides[1]} and {sides[2]}. What is the radius "
            "of its inscribed circle?", repr(area / s), "number")


# ------------------------------------------------------------------ calculus


def _calculus(rng: np.random.Generator, difficulty: int) -> tuple[str, str, str]:
    import sympy as sp

    x = sp.Symbol("x")
    form = int(rng.integers(2))
    a, b, c = (int(v) for v in rng.integers(1, 7, size=3))
    pieces = [a * x ** int(rng.integers(2, 4 + difficulty)), b * sp.sin(c * x),
              sp.exp(int(rng.integers(1, 4)) * x), sp.log(x + a), x * sp.cos(b * x)]
    chosen = [pieces[i] for i in rng.choice(len(pieces), size=1 + difficulty, replace=False)]
    if form == 0:
        f = chosen[0]
        for g in chosen[1:]:
            f = f * g if rng.random() < 0.5 else f + g
        return (f"Differentiate f(x) = {sp.sstr(f)} with respect to x. Give f'(x) as an "
                "expression in x (Python/sympy syntax, e.g. 3*x**2 + cos(x)).",
                sp.sstr(sp.diff(f, x)), "expression")
    coeffs = [int(v) for v in rng.integers(-5, 6, size=2 + difficulty)]
    poly = sum(cf * x**i for i, cf in enumerate(coeffs))
    lo, hi = sorted(int(v) for v in rng.choice(np.arange(-3, 5), size=2, replace=False))
    # exact antiderivative by hand: sympy's integrate costs ~0.1 s a problem
    value = sum(Fraction(cf, i + 1) * (Fraction(hi) ** (i + 1) - Fraction(lo) ** (i + 1))
                for i, cf in enumerate(coeffs))
    return (f"Compute the definite integral of {sp.sstr(poly)} dx from x = {lo} to x = {hi}. "
            "Give a decimal number.", repr(float(value)), "number")


# ------------------------------------------------------------------ statistics


def _statistics(rng: np.random.Generator, difficulty: int) -> tuple[str, str, str]:
    form = int(rng.integers(3))
    if form == 0:
        data = [int(v) for v in rng.integers(0, 100, size=5 + 3 * difficulty)]
        which = str(rng.choice(["sample variance (divide by n - 1)", "population variance",
                                "median"]))
        arr = np.asarray(data, dtype=float)
        value = {"sample variance (divide by n - 1)": arr.var(ddof=1),
                 "population variance": arr.var(ddof=0), "median": float(np.median(arr))}[which]
        return (f"What is the {which} of the data {data}?", repr(float(value)), "number")
    if form == 1:
        n = int(rng.integers(5, 10 + 10 * difficulty))
        p = round(float(rng.uniform(0.05, 0.95)), 2)
        k = int(rng.integers(0, n + 1))
        at_least = difficulty > 1 and rng.random() < 0.5
        if at_least:
            value = sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(k, n + 1))
            what = f"at least {k}"
        else:
            value = math.comb(n, k) * p**k * (1 - p) ** (n - k)
            what = f"exactly {k}"
        return (f"A coin lands heads with probability {p}. In {n} independent tosses, what is "
                f"the probability of {what} heads?", repr(value), "number")
    prevalence = round(float(rng.uniform(0.001, 0.2)), 3)
    sensitivity = round(float(rng.uniform(0.7, 0.999)), 3)
    specificity = round(float(rng.uniform(0.7, 0.999)), 3)
    positive = prevalence * sensitivity + (1 - prevalence) * (1 - specificity)
    value = prevalence * sensitivity / positive
    return (f"A condition affects {prevalence:.1%} of a population. A test detects it with "
            f"sensitivity {sensitivity} and specificity {specificity}. A person tests positive: "
            "what is the probability that they have the condition?", repr(value), "number")


# ------------------------------------------------------------------ coding

_CODING: list[tuple[str, str, str, Callable[[np.random.Generator, int], tuple]]] = []


def _coding_task(name: str, spec: str, reference: str):
    def register(make_input: Callable[[np.random.Generator, int], tuple]):
        _CODING.append((name, spec, reference, make_input))
        return make_input

    return register


@_coding_task(
    "kth_distinct",
    "Write a Python function `kth_distinct(values, k)` that returns the k-th smallest "
    "DISTINCT value of the list `values` (k counts from {base}), or None if there are fewer "
    "than k distinct values.",
    "def kth_distinct(values, k):\n    d = sorted(set(values))\n    i = k - {base}\n"
    "    return d[i] if 0 <= i < len(d) else None\n",
)
def _kth_input(rng, difficulty):
    n = int(rng.integers(0, 6 * difficulty + 3))
    values = [int(v) for v in rng.integers(-5 * difficulty, 5 * difficulty + 1, size=n)]
    return (values, int(rng.integers(0, n + 2)))


@_coding_task(
    "rle",
    "Write a Python function `rle(text)` that run-length encodes a string: each maximal run "
    "of one character becomes the character followed by the run's length, except that runs "
    "of length 1 are written as the character alone and runs longer than {base} are split "
    "into runs of at most {base}. Example for a limit of 9: 'aaab' -> 'a3b'.",
    "def rle(text):\n    out = []\n    i = 0\n    while i < len(text):\n        j = i\n"
    "        while j < len(text) and text[j] == text[i] and j - i < {base}:\n            j += 1\n"
    "        n = j - i\n        out.append(text[i] + (str(n) if n > 1 else ''))\n"
    "        i = j\n    return ''.join(out)\n",
)
def _rle_input(rng, difficulty):
    n = int(rng.integers(0, 12 * difficulty))
    return ("".join(rng.choice(list("aab" if difficulty < 3 else "ab"), size=n)),)


@_coding_task(
    "inversions",
    "Write a Python function `inversions(values)` that returns the number of pairs (i, j) "
    "with i < j and values[i] > values[j] + {base}.",
    "def inversions(values):\n    return sum(1 for i in range(len(values)) for j in "
    "range(i + 1, len(values)) if values[i] > values[j] + {base})\n",
)
def _inv_input(rng, difficulty):
    n = int(rng.integers(0, 8 * difficulty + 2))
    return ([int(v) for v in rng.integers(-10, 11, size=n)],)


@_coding_task(
    "balanced",
    "Write a Python function `balanced(text)` that returns True if the brackets (), [] and "
    "{{}} in `text` are balanced and properly nested (other characters are ignored) and the "
    "nesting depth never exceeds {base}; otherwise False.",
    "def balanced(text):\n    pairs = {{')': '(', ']': '[', '}}': '{{'}}\n    stack = []\n"
    "    for ch in text:\n        if ch in '([{{':\n            stack.append(ch)\n"
    "            if len(stack) > {base}:\n                return False\n"
    "        elif ch in pairs:\n            if not stack or stack.pop() != pairs[ch]:\n"
    "                return False\n    return not stack\n",
)
def _bal_input(rng, difficulty):
    n = int(rng.integers(0, 8 * difficulty + 2))
    return ("".join(rng.choice(list("()[]{}x"), size=n)),)


@_coding_task(
    "spiral",
    "Write a Python function `spiral(matrix)` that returns the elements of a rectangular "
    "matrix (a list of equal-length lists) in clockwise spiral order starting at the top-left "
    "corner, keeping only elements that are divisible by {base}.",
    "def spiral(matrix):\n    out = []\n    m = [list(r) for r in matrix]\n    while m and m[0]:\n"
    "        out += m.pop(0)\n        m = [list(r) for r in zip(*m)][::-1]\n"
    "    return [v for v in out if v % {base} == 0]\n",
)
def _spiral_input(rng, difficulty):
    rows, cols = int(rng.integers(0, 2 + 2 * difficulty)), int(rng.integers(1, 2 + 2 * difficulty))
    return ([[int(v) for v in rng.integers(0, 30, size=cols)] for _ in range(rows)],)


def _coding(rng: np.random.Generator, difficulty: int):
    name, spec, reference, make_input = _CODING[int(rng.integers(len(_CODING)))]
    base = {"kth_distinct": int(rng.choice([0, 1])), "rle": int(rng.integers(3, 10)),
            "inversions": int(rng.integers(0, 4)), "balanced": int(rng.integers(2, 5)),
            "spiral": int(rng.integers(1, 4))}[name]
    source = reference.format(base=base)
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<reference {name}>", "exec"), namespace)  # trusted: our own code
    function = namespace[name]
    inputs = [make_input(rng, difficulty) for _ in range(12 + 4 * difficulty)]
    tests = tuple((args, function(*_copy(args))) for args in inputs)
    prompt = spec.format(base=base) + " Return only the function definition."
    return prompt, source, "code", name, tests


def _copy(args: tuple) -> tuple:
    import copy

    return copy.deepcopy(args)


_GENERATORS = {
    "logic": _logic, "numeracy": _numeracy, "geometry": _geometry,
    "calculus": _calculus, "statistics": _statistics,
}


def generate_problem(domain: Domain, index: int, seed: int) -> Problem:
    """Generate problem `index` of `domain` for suite seed `seed` (deterministic).

    Difficulty cycles 1, 2, 3 with the index, so every domain has graded problems.

    Raises:
        ValueError: an unknown domain.
    """
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}: one of {', '.join(DOMAINS)}")
    difficulty = 1 + index % 3
    rng = np.random.default_rng([seed, DOMAINS.index(domain), index])
    pid = f"cc-{domain}-{seed}-{index:03d}"
    if domain == "coding":
        prompt, answer, kind, function, tests = _coding(rng, difficulty)
        return Problem(pid, domain, difficulty, seed, prompt, kind, answer, function=function,
                       tests=tests)
    prompt, answer, kind = _GENERATORS[domain](rng, difficulty)
    return Problem(pid, domain, difficulty, seed, prompt, kind, answer)


def generate_suite(n_problems: int = 300, seed: int = 0) -> list[Problem]:
    """A suite of `n_problems` spread evenly over the six domains (at least 40 each for 300+).

    Returns:
        Problems in a fixed order: domain by domain, index by index.

    Raises:
        ValueError: fewer than six problems asked for.
    """
    if n_problems < len(DOMAINS):
        raise ValueError(f"ask for at least {len(DOMAINS)} problems (one per domain)")
    per_domain = [n_problems // len(DOMAINS)] * len(DOMAINS)
    for i in range(n_problems % len(DOMAINS)):
        per_domain[i] += 1
    return [generate_problem(domain, i, seed)
            for domain, count in zip(DOMAINS, per_domain) for i in range(count)]
