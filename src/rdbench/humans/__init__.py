"""Human baselines: experts take the same task, in the same sandbox, on the same clock.

`run_baseline` starts one attempt (`rdbench baseline`); `human_baseline_agent` is the
Inspect agent behind it (Inspect's `human_cli` with rdbench's clock, budget and scoring).
"""

from rdbench.humans.agent import human_baseline_agent
from rdbench.humans.run import parse_budget, run_baseline

__all__ = ["human_baseline_agent", "parse_budget", "run_baseline"]
