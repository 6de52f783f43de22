"""`rdbench crosscheck` (run every arm) and `rdbench crosscheck-report` (the tables)."""

from __future__ import annotations

import math
from pathlib import Path

import click

from rdbench._cli.horizon import make_console, write_json
from rdbench.errors import UserError


@click.command("crosscheck")
@click.option("--models", required=True,
              help="Comma-separated Inspect models, e.g. openai/gpt-4o,anthropic/claude-sonnet-4-0 "
              "(every ordered pair is run in the verify arm).")
@click.option("--problems", type=click.IntRange(min=6), default=300, show_default=True,
              help="Suite size, spread evenly over the six domains.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Suite seed: a new seed is a new, unseen suite.")
@click.option("--arms", default="single,self_check,verify,self_consistency", show_default=True,
              help="Which protocols to run.")
@click.option("--log-dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Where the logs go; re-running the same command there resumes.")
@click.option("--max-tokens", type=click.IntRange(min=16), default=None,
              help="Cap on tokens per model reply.")
@click.option("--max-connections", type=click.IntRange(min=1), default=None,
              help="Concurrent requests per model (Inspect's max_connections).")
def crosscheck(models, problems, seed, arms, log_dir, max_tokens, max_connections) -> None:
    """Cross-provider verification: do models from different providers catch each other's
    mistakes? Runs single answers, self-checks, every ordered verifier pairing and the
    compute-matched self-consistency control on a generated suite of technical problems
    (logic, numeracy, geometry, calculus, statistics, coding), each checked exactly.

    \b
    Example:
      rdbench crosscheck --models openai/gpt-4o,anthropic/claude-sonnet-4-0 \\
          --problems 300 --log-dir crosscheck-logs
      rdbench crosscheck-report crosscheck-logs
    """
    from rdbench.agents.providers import check_model
    from rdbench.crosscheck.run import CrosscheckPlan, run_crosscheck
    from rdbench.crosscheck.task import ARMS

    names = [m.strip() for m in models.split(",") if m.strip()]
    if len(set(names)) != len(names) or not names:
        raise UserError(f"--models must name distinct models: {models!r}")
    chosen = tuple(a.strip() for a in arms.split(",") if a.strip())
    unknown = [a for a in chosen if a not in ARMS]
    if unknown:
        raise UserError(f"unknown arm(s) {', '.join(unknown)}: choose from {', '.join(ARMS)}")
    for name in names:  # a missing key or provider package: one line, before any call
        check_model(name, None)
    plan = CrosscheckPlan(models=tuple(names), problems=problems, seed=seed, arms=chosen,
                          max_tokens=max_tokens)
    samples = run_crosscheck(plan, log_dir, max_connections=max_connections)
    click.echo(f"crosscheck: logs in {log_dir} (inspect view --log-dir {log_dir})")
    for model, n in samples.items():
        click.echo(f"  self-consistency of {model}: {n} answers per problem (compute-matched)")
    click.echo(f"  tables: rdbench crosscheck-report {log_dir}")


def _pct(value: float) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else (
        f"{value:.0%}")


def _signed(value: float) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else (
        f"{value:+.1%}")


@click.command("crosscheck-report")
@click.argument("logs", nargs=-1, required=True)
@click.option("--bootstrap", "n_bootstrap", type=click.IntRange(min=10), default=1000,
              show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@click.option("--json", "json_out", metavar="OUT", help="Write all tables as JSON ('-' = stdout).")
def crosscheck_report(logs, n_bootstrap, seed, json_out) -> None:
    """Tables of a crosscheck run: accuracy per arm, uplift of each pair over its better
    member and over the compute-matched control (paired bootstrap over problems), the
    verifiers' true- and false-positive rates, error correlation, cost per correct answer.

    LOGS: the --log-dir of `rdbench crosscheck` (or log files).
    """
    from rich.table import Table

    from rdbench.crosscheck import analysis as an

    answers = an.read_crosscheck_logs(list(logs))
    accuracy = an.accuracy_table(answers, n_bootstrap=n_bootstrap, seed=seed)
    by_domain = an.accuracy_table(answers, by_domain=True, n_bootstrap=n_bootstrap, seed=seed)
    uplift = an.uplift_table(answers, n_bootstrap=n_bootstrap, seed=seed)
    rates = an.verifier_rates(answers)
    correlation = an.error_correlation(answers)
    cost = an.cost_per_correct(answers)

    console = make_console()
    table = Table(title="Accuracy per arm [95% CI over problems]", title_justify="left")
    for col in ("arm", "solver", "verifier", "problems", "accuracy", "unparsable"):
        table.add_column(col, overflow="fold")
    for r in accuracy.itertuples():
        table.add_row(r.arm, r.solver, r.verifier if r.verifier != r.solver else "", str(r.n),
                      f"{_pct(r.accuracy)} [{_pct(r.low)}, {_pct(r.high)}]", _pct(r.unparsable))
    console.print(table)
    if not uplift.empty:
        table = Table(title="Uplift of verification [95% CI, paired over problems]",
                      title_justify="left")
        for col in ("solver ← verifier", "pairing", "pair", "vs better member",
                    "vs self-consistency"):
            table.add_column(col, overflow="fold")
        for r in uplift.itertuples():
            table.add_row(
                f"{r.solver} ← {r.verifier}", r.pairing, _pct(r.pair_accuracy),
                f"{_signed(r.uplift)} [{_signed(r.uplift_low)}, {_signed(r.uplift_high)}]",
                f"{_signed(r.vs_control)} [{_signed(r.vs_control_low)}, "
                f"{_signed(r.vs_control_high)}]" if r.vs_control == r.vs_control else "-",
            )
        console.print(table)
        table = Table(title="Verifiers", title_justify="left")
        for col in ("solver ← verifier", "catches wrong (TPR)", "flags right (FPR)",
                    "talked out of right", "wrong fixed"):
            table.add_column(col, overflow="fold")
        for r in rates.itertuples():
            table.add_row(f"{r.solver} ← {r.verifier}",
                          f"{_pct(r.true_positive_rate)} of {r.n_wrong}",
                          f"{_pct(r.flag_rate_on_right)} of {r.n_right}",
                          _pct(r.talked_out_rate), _pct(r.fixed_rate))
        console.print(table)
    if not correlation.empty:
        merged = uplift.merge(correlation, left_on=["solver", "verifier"],
                              right_on=["model_a", "model_b"], how="left")
        console.print("Error correlation (phi of single-arm errors) beside the uplift:")
        for r in correlation.itertuples():
            ups = merged[((merged["solver"] == r.model_a) & (merged["verifier"] == r.model_b))]
            up = _signed(ups["uplift"].iloc[0]) if len(ups) else "-"
            console.print(f"  {r.model_a} / {r.model_b}: phi {r.phi:.2f} "
                          f"(both wrong on {_pct(r.both_wrong)}), uplift {up}", highlight=False)
    table = Table(title="Cost per correct answer", title_justify="left")
    for col in ("arm", "solver", "verifier", "tokens/problem", "tokens/correct", "$/correct"):
        table.add_column(col, overflow="fold")
    for r in cost.itertuples():
        table.add_row(r.arm, r.solver, r.verifier if r.verifier != r.solver else "",
                      f"{r.tokens_per_problem:,.0f}", f"{r.tokens_per_correct:,.0f}",
                      "-" if r.cost_per_correct != r.cost_per_correct else
                      f"{r.cost_per_correct:.4f}")
    console.print(table)
    if json_out:
        write_json(json_out, {"accuracy": accuracy, "accuracy_by_domain": by_domain,
                              "uplift": uplift, "verifiers": rates,
                              "error_correlation": correlation, "cost": cost})
