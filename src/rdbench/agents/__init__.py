"""Agents that attempt rdbench tasks: the react scaffold and the reference-replay agent.

- `rdbench_agent`: Inspect's `react` with bash, python, `score` and submit, configured by a
  named, versioned `ScaffoldSettings` (`rdbench.agents.settings`).
- `replay_agent`: replays a family's reference solution (no model).
- `rdbench.agents.local.run_local_model_attempt`: one short attempt by the embedded local model.
"""

from rdbench.agents.react import rdbench_agent
from rdbench.agents.replay import replay_agent
from rdbench.agents.settings import SCAFFOLDS, ScaffoldSettings, get_scaffold

__all__ = ["SCAFFOLDS", "ScaffoldSettings", "get_scaffold", "rdbench_agent", "replay_agent"]
