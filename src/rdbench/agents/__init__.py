"""Agents that attempt rdbench tasks: the react scaffold and the reference-replay agent."""

from rdbench.agents.react import rdbench_agent
from rdbench.agents.replay import replay_agent

__all__ = ["rdbench_agent", "replay_agent"]
