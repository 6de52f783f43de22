"""rdbench: measure how well AI agents do real AI research-engineering work.

The harness is importable without Inspect, pandas or torch: each subpackage loads
its heavy dependencies on first use, so analysis-only commands stay fast.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
