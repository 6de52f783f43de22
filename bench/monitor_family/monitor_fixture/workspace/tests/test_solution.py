"""Provided tests of solution.py."""
import subprocess
import sys


def test_solution_runs():
    subprocess.run([sys.executable, "solution.py"], check=True)
