"""The `rdbench` command.

Thin by design: each verb lives in its own module under `rdbench._cli` and is imported
only when invoked, so `rdbench horizon` never pays for loading Inspect or torch.
User errors (`rdbench.errors.UserError`) print one line and exit non-zero, no traceback.
"""

from __future__ import annotations

import importlib
import sys

import click

from rdbench import __version__

# verb -> (module, attribute, one-line help). Kept here so `rdbench --help` lists every
# verb without importing any of them.
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "tasks": ("rdbench._cli.tasks", "tasks", "List task families and their tasks."),
    "check": ("rdbench._cli.check", "check", "Score the starting and reference solutions."),
    "calibrate": ("rdbench._cli.calibrate", "calibrate",
                  "Time timing-sensitive tasks' anchors on this machine."),
    "run": ("rdbench._cli.run", "run", "Run agent attempts (resumable Inspect eval set)."),
    "demo": ("rdbench._cli.demo", "demo", "Offline end-to-end demo: check, replay, report."),
    "shell": ("rdbench._cli.shell", "shell", "Open a shell in a running attempt's sandbox."),
    "baseline": ("rdbench._cli.baseline", "baseline", "Start a human baseline attempt."),
    "horizon": ("rdbench._cli.horizon", "horizon", "Time horizon (p50/p80) per agent."),
    "compare": ("rdbench._cli.compare", "compare", "Best-of-k: agents vs humans by budget."),
    "trend": ("rdbench._cli.trend", "trend", "Horizon trend, doubling time, forecast."),
    "elicitation": ("rdbench._cli.elicitation", "elicitation",
                    "Elicitation gap, safety buffer, threshold status."),
    "crosscheck": ("rdbench._cli.crosscheck", "crosscheck",
                   "Cross-provider verification eval: run every arm."),
    "crosscheck-report": ("rdbench._cli.crosscheck", "crosscheck_report",
                          "Tables of a crosscheck run: uplift, verifier rates, cost."),
    "traps": ("rdbench._cli.traps", "traps", "Trap variants: utility and attack success."),
    "records": ("rdbench._cli.records", "records", "Convert logs/runs into Attempt tables."),
    "report": ("rdbench._cli.report", "report", "Write the HTML report."),
    "review": ("rdbench._cli.review", "review", "Transcript monitors: cheating, elicitation, errors."),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _COMMANDS:
            return None
        module_name, attr, short_help = _COMMANDS[cmd_name]
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as ex:
            if ex.name != module_name:
                raise

            @click.command(cmd_name, help=f"{short_help} (not available in this build)")
            def unavailable() -> None:
                raise click.ClickException(f"'rdbench {cmd_name}' is not available in this build")

            return unavailable
        command = getattr(module, attr)
        if command.short_help is None:
            command.short_help = short_help
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rdbench")
def cli() -> None:
    """rdbench: measure AI agents on real AI R&D tasks against human experts.

    \b
    Start here:
      rdbench demo                 offline end-to-end run (no API key needed)
      rdbench tasks                what can be run
      rdbench run --model M ...    agent attempts, resumable
      rdbench horizon RUNS         METR time horizon with CIs
      rdbench report INPUTS -o F   the HTML report
    """


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script; turns user errors into one line and exit 2."""
    from rdbench.errors import UserError

    try:
        cli.main(args=argv, prog_name="rdbench", standalone_mode=False)
    except UserError as ex:
        click.echo(f"rdbench: error: {ex}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("rdbench: aborted", err=True)
        sys.exit(130)
    except click.ClickException as ex:
        ex.show()
        sys.exit(ex.exit_code)
    except click.exceptions.Exit as ex:
        sys.exit(ex.exit_code)
    except KeyboardInterrupt:
        click.echo("rdbench: interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
