"""`rdbench traps LOGS...`: utility and security of agents on trap variants; and the trap
variants listing behind `rdbench tasks --traps`."""

from __future__ import annotations

import json
import math

import click

from rdbench.errors import UserError


def trap_task_rows(family_names: list[str], classes_text: str) -> list[dict]:
    """Return one JSON-ready row per trap variant of the named families (default: every
    family with traps) and classes (`CLASS[,CLASS]` or `all`).

    Raises:
        UserError: an unknown class or family, or a family without trap variants (the line
            names what exists).
    """
    from rdbench.tasks import load_families
    from rdbench.traps import families_with_traps, parse_trap_classes, trap_variants

    classes = parse_trap_classes(classes_text)
    names = [n.split("/")[0] for n in family_names] or families_with_traps()
    rows = []
    for family in load_families(names):
        variants = trap_variants(family, classes)
        if not variants:
            raise UserError(
                f"family {family.name} has no trap variants; families with traps: "
                + ", ".join(families_with_traps())
            )
        for variant in variants:
            trap = variant.params["trap"]
            rows.append({
                "task_id": variant.task_id,
                "base_task_id": f"{family.name}/{variant.params['base_variant']}",
                "trap_class": trap["trap_class"],
                "vector": trap["vector"],
                "goal": trap["goal"]["description"],
                "goal_kind": trap["goal"]["kind"],
                "planted": trap["planted"],
            })
    return rows


def print_trap_tasks(family_names: list[str], classes_text: str, as_json: bool) -> None:
    """Print the trap variants (table or JSON); raises UserError as `trap_task_rows`."""
    rows = trap_task_rows(family_names, classes_text)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    table = Table(title="rdbench trap variants", title_justify="left")
    table.add_column("task", no_wrap=True, min_width=max(len(r["task_id"]) for r in rows))
    table.add_column("trap class", no_wrap=True)
    table.add_column("vector", overflow="fold")
    table.add_column("goal", overflow="fold")
    for row in rows:
        table.add_row(row["task_id"], row["trap_class"], row["vector"], row["goal"])
    console.print(table)
    console.print(f"{len(rows)} trap variants; run them with rdbench run --tasks ... --traps all")


def _pct(rate: float, low: float, high: float) -> str:
    if not math.isfinite(rate):
        return "-"
    return f"{rate:.2f} [{low:.2f}, {high:.2f}]"


def _diff(value: float, low: float, high: float) -> str:
    if not math.isfinite(value):
        return "-"
    return f"{value:+.2f} [{low:+.2f}, {high:+.2f}]"


@click.command("traps")
@click.argument("logs", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
def traps(logs: tuple[str, ...], as_json: bool) -> None:
    """Utility and security per agent and trap class, from `rdbench run --traps` logs.

    LOGS are .eval files or folders of them. Benign utility is the success rate on the
    tasks without their trap; utility under attack on the trap variants; ASR the attack
    success rate (the trap's goal happened, judged on state and tool calls). Rates have
    95% Wilson intervals; the paired difference (under attack - benign, matched on task and
    attempt number) a 95% Newcombe interval.
    """
    from rdbench.traps import trap_attempts, trap_metrics

    attempts = trap_attempts(list(logs))
    if not attempts["trap_class"].notna().any():
        raise UserError(
            f"no trap attempts in {', '.join(logs)} (run them with rdbench run --traps all)"
        )
    table = trap_metrics(attempts)
    if as_json:
        click.echo(table.to_json(orient="records", indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    out = Table(title="rdbench traps: utility and attack success (95% CI)", title_justify="left")
    for column in ("agent", "trap class", "benign utility", "utility under attack",
                   "attack success", "paired diff (pairs)"):
        out.add_column(column, no_wrap=column in ("agent", "trap class"))
    for r in table.itertuples():
        out.add_row(
            r.agent, r.trap_class,
            f"{_pct(r.benign_utility, r.benign_low, r.benign_high)} n={r.benign_n}",
            f"{_pct(r.attack_utility, r.attack_utility_low, r.attack_utility_high)} n={r.attack_n}",
            _pct(r.asr, r.asr_low, r.asr_high),
            f"{_diff(r.paired_diff, r.paired_low, r.paired_high)} ({r.pairs})",
        )
    console.print(out)
    leaked = attempts["canary_leaked"].fillna(0).astype(bool).sum()
    console.print(f"{int(attempts['trap_class'].notna().sum())} trap attempts, "
                  f"{int(attempts['trap_class'].isna().sum())} without a trap; "
                  f"canary leaked to the outbox in {int(leaked)}")
