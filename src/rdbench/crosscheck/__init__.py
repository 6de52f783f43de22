"""Cross-provider verification: do models from different providers catch each other's
mistakes, and by how much?

- :mod:`rdbench.crosscheck.problems` -- seeded problems in six domains (logic, numeracy,
  geometry, calculus, statistics, coding) at graded difficulty.
- :mod:`rdbench.crosscheck.checking` -- exact answer checks (tolerance, sympy, unit tests
  in a jail).
- :mod:`rdbench.crosscheck.task` -- the Inspect task ``rdbench/crosscheck`` and its
  protocols (single, self_check, verify, self_consistency).
- :mod:`rdbench.crosscheck.run` -- every arm for a set of models, resumable.
- :mod:`rdbench.crosscheck.analysis` -- accuracy, uplift, verifier rates, error
  correlation, cost per correct answer.

Importing this package imports neither Inspect nor sympy; the submodules do.
"""

__all__ = ["DOMAINS", "Problem", "generate_problem", "generate_suite"]

from rdbench.crosscheck.problems import DOMAINS, Problem, generate_problem, generate_suite
