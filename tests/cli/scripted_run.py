"""`rdbench run`'s eval set driven by a scripted mockllm model, as a process a test can kill.

    python scripted_run.py LOG_DIR CALLS_FILE

Runs 3 attempts (one at a time) at the tests' tiny `human_fixture` family in the local
sandbox. Each attempt: write 7 to answer.txt, sleep a moment, call `score`, submit. Every
model call appends a line to CALLS_FILE, so a test can kill the process at a known point.
"""

from __future__ import annotations

import sys
from pathlib import Path

from inspect_ai.model import ChatMessageAssistant, ModelOutput, ModelUsage

FIXTURES = Path(__file__).resolve().parents[1] / "humans" / "fixtures"


def _call(tool: str, **arguments: object) -> ModelOutput:
    output = ModelOutput.for_tool_call("mockllm/model", tool, arguments)
    output.usage = ModelUsage(input_tokens=20, output_tokens=5, total_tokens=25)
    return output


class ScriptedModel:
    """mockllm ``custom_outputs``: the same four steps in every attempt."""

    def __init__(self, calls_file: Path) -> None:
        self.calls_file = calls_file
        self.steps = [
            _call("bash", command="echo 7 > answer.txt"),
            _call("bash", command="sleep 0.5"),
            _call("score"),
            _call("submit", answer="done"),
        ]

    def __call__(self, input, tools, tool_choice, config):
        turn = sum(isinstance(m, ChatMessageAssistant) for m in input)
        with self.calls_file.open("a") as handle:
            handle.write(f"{turn}\n")
        return self.steps[min(turn, len(self.steps) - 1)].model_copy(deep=True)

    def __repr__(self) -> str:  # stable across runs: part of the eval set's task identity
        return "ScriptedModel()"


def main(log_dir: Path, calls_file: Path) -> None:
    """Run (or resume) the eval set in ``log_dir``."""
    from rdbench._cli.run import execute_run, plan_run, print_summary

    plan = plan_run(model="mockllm/model", tasks="human_fixture", attempts=3,
                    attempt_length="5m", sandbox="local", scaffold="react",
                    agent_label="scripted")
    logs = execute_run(plan, log_dir=log_dir, max_samples=1, display="none",
                       model_args={"custom_outputs": ScriptedModel(calls_file)})
    print_summary(logs, log_dir)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
