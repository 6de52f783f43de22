"""Inspect entry point: registers rdbench's tasks and the `bwrap` sandbox provider.

Inspect loads this module (entry-point group `inspect_ai`, name `rdbench`) when it
resolves `rdbench/<family>` task names or the `bwrap` sandbox type.
"""

# ruff: noqa: F401
from rdbench.models import local as _local_model  # registers model provider "rdbench-local"
from rdbench.sandbox import provider as _provider  # registers sandbox "bwrap"
from rdbench.tasks.inspect_tasks import *  # registers one @task per family
from rdbench.crosscheck.task import crosscheck  # registers task "rdbench/crosscheck"
