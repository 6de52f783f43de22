"""`rdbench compare`: agents' best-of-k vs humans at equal total time budgets."""

from __future__ import annotations

import click

from rdbench._cli._shared import check_outputs, load_inputs, make_console, warn, write_json
from rdbench.durations import format_duration, parse_durations


@click.command("compare")
@click.argument("inputs", nargs=-1)
@click.option("--budgets", default="30m,2h,8h,32h", show_default=True,
              help="Total time budgets T, comma-separated (30m, 2h, 1.5h, 90s; bare = minutes).")
@click.option("--attempt-lengths", default=None,
              help="Agent attempt lengths t (k = T // t attempts). Default: every attempt "
              "length (time limit) found in the agents' runs.")
@click.option("--floor", is_flag=True, help="Clip scores at 0 before taking the best.")
@click.option("--truncate-longer", is_flag=True,
              help="Also use longer agent attempts, cut at t via their score trajectory.")
@click.option("--all-tasks", is_flag=True,
              help="Do not restrict agents and humans to the tasks both attempted.")
@click.option("--bootstrap", "n_bootstrap", type=click.IntRange(min=0), default=1000,
              show_default=True, help="Bootstrap samples over tasks for the CIs.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "json_out", metavar="OUT", help="Write the table as JSON ('-' = stdout).")
@click.option("--csv", "csv_out", metavar="OUT", help="Write the table as CSV.")
@click.option("--skip-bad", is_flag=True, help="Skip unreadable logs / JSON lines, with a count.")
def compare(inputs, budgets, attempt_lengths, floor, truncate_longer, all_tasks, n_bootstrap,
            seed, json_out, csv_out, skip_bad) -> None:
    """Best-of-k at equal total budgets, agents vs humans (the RE-Bench comparison).

    For each budget T an agent gets k = T // t attempts of length t and keeps the best
    (expected maximum over k of its n attempts, per task, mean over tasks); humans get
    the score they had reached by working time T. CIs: bootstrap over tasks.

    INPUTS: directories of Inspect logs, .eval logs, METR runs.jsonl, attempts.parquet.
    With no INPUTS (or the word 'metr') the public METR runs shipped with rdbench are
    used (Jan 2025 snapshot, MIT, (c) 2025 METR).
    """
    from rich.table import Table

    from rdbench.stats import agent_vs_human

    budget_s = parse_durations(budgets)
    check_outputs(inputs, json_out, csv_out)
    attempts, trajectories, _ = load_inputs(inputs, skip_bad)
    if attempt_lengths:
        lengths = parse_durations(attempt_lengths)
    else:
        limits = attempts.loc[~attempts["is_human"], "time_limit_s"].dropna().unique()
        lengths = sorted(float(v) for v in limits)
        if not lengths:
            from rdbench.errors import UserError

            raise UserError("no agent attempt has a time limit: give --attempt-lengths")
    table = agent_vs_human(
        attempts,
        trajectories,
        budget_s,
        lengths,
        floor=floor,
        truncate_longer=truncate_longer,
        common_tasks=not all_tasks,
        n_bootstrap=n_bootstrap,
        seed=seed,
    )
    console = make_console(json_out)
    if table.empty:
        warn("no agent attempt matches these attempt lengths and budgets")
    out = Table(
        title="Best-of-k at equal total budget (score: normalized; 95% CI over tasks)",
        title_justify="left",
    )
    for col, justify in (("budget", "left"), ("agent", "left"), ("attempts", "left"),
                         ("score", "right"), ("95% CI", "left"), ("tasks", "right"),
                         ("short", "right")):
        out.add_column(col, justify=justify, no_wrap=col != "agent")
    shorts = []
    for budget, group in table.groupby("budget_s", sort=True):
        group = group.sort_values(["is_human", "agent", "attempt_length_s"])
        for i, row in enumerate(group.itertuples()):
            attempts_text = (
                f"1 x {format_duration(row.attempt_length_s)} (human)"
                if row.is_human
                else f"{row.k} x {format_duration(row.attempt_length_s)}"
            )
            score = "-" if row.score != row.score else f"{row.score:.3f}"
            ci = (
                "" if row.score_low != row.score_low
                else f"[{row.score_low:.3f}, {row.score_high:.3f}]"
            )
            if row.is_human and row.n_unknown:
                shorts.append(
                    f"{format_duration(budget)} human: {row.n_unknown} attempt(s) without a "
                    "score trajectory were still running at this budget (score unknown, "
                    "left out)"
                )
            if row.n_tasks_short:
                shorts.append(
                    f"{format_duration(budget)} {row.agent} {attempts_text}: "
                    f"{row.n_tasks_short} task(s) with fewer than k={row.k} attempts, not in "
                    f"the mean: {row.tasks_short}"
                )
            out.add_row(
                format_duration(budget) if i == 0 else "",
                row.agent,
                attempts_text,
                score,
                ci,
                str(row.n_tasks),
                str(row.n_tasks_short) if row.n_tasks_short else "",
            )
        out.add_section()
    console.print(out)
    if shorts:
        console.print("Notes ('short' = tasks with fewer attempts than k: reported, not averaged):")
        for line in shorts:
            console.print(f"  {line}", highlight=False)
    if csv_out:
        from rdbench.outputs import atomic_write_text

        atomic_write_text(csv_out, table.to_csv(index=False))
    if json_out:
        write_json(json_out, {"budgets_s": budget_s, "attempt_lengths_s": lengths,
                              "floor": floor, "rows": table})

