"""Analysis of crosscheck runs: pure functions over one table of answers.

The table (:func:`read_crosscheck_logs`) has one row per (task, problem): ``arm``
(single, self_check, verify, self_consistency), ``solver``, ``verifier`` (the solver for
arms without one), ``pairing`` (self / same_family / cross_provider), ``problem_id``,
``domain``, ``difficulty``, ``correct``, ``parse_ok``, ``initial_correct``, ``flagged``,
``n_samples``, ``tokens``, ``cost_usd``.

Every interval is a paired bootstrap over problems: one resampling of the problems serves
every arm, so differences between arms on the same problems are not diluted by which
problems happened to be drawn.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rdbench.errors import RecordsError

__all__ = [
    "ANSWER_COLUMNS",
    "accuracy_table",
    "cost_per_correct",
    "error_correlation",
    "read_crosscheck_logs",
    "uplift_table",
    "verifier_rates",
]

ANSWER_COLUMNS = [
    "arm", "solver", "verifier", "pairing", "problem_id", "domain", "difficulty", "correct",
    "parse_ok", "initial_correct", "flagged", "n_samples", "tokens", "cost_usd", "source",
]


def read_crosscheck_logs(paths: list[str | Path]) -> pd.DataFrame:
    """Read crosscheck eval logs (files or directories) into the answers table.

    Each task counts once: where an eval set retried a task, the newest complete log of
    that task (by its identifier) wins.

    Raises:
        RecordsError: a path holds no crosscheck log, or a log cannot be read.
    """
    from inspect_ai.log import list_eval_logs, read_eval_log

    from rdbench.crosscheck.task import SCORER, pairing

    files: list[str] = []
    for path in paths:
        p = Path(path)
        if p.is_dir():
            files += [info.name for info in list_eval_logs(str(p))]
        elif p.is_file():
            files.append(str(p))
        else:
            raise RecordsError(f"{path}: no such file or directory")
    latest: dict[tuple, tuple[str, object]] = {}
    for file in files:
        try:
            header = read_eval_log(file, header_only=True)
        except Exception as ex:  # Inspect raises many kinds for a corrupt file
            raise RecordsError(f"{file}: not a readable Inspect log ({type(ex).__name__})") from None
        meta = (header.eval.metadata or {}).get("rdbench_crosscheck")
        if meta is None or header.status != "success":
            continue
        roles = header.eval.model_roles or {}
        verifier = roles["verifier"].model if "verifier" in roles else header.eval.model
        key = (meta["arm"], header.eval.model, verifier, meta.get("seed"), meta.get("problems"),
               meta.get("domains", ""))
        if key not in latest or header.eval.created > latest[key][1]:
            latest[key] = (file, header.eval.created)
    if not latest:
        raise RecordsError(f"no completed crosscheck logs in {', '.join(map(str, paths))}")
    rows = []
    for (arm, solver, verifier, *_), (file, _) in sorted(latest.items()):
        log = read_eval_log(file)
        for sample in log.samples or []:
            score = (sample.scores or {}).get(SCORER)
            if score is None:
                continue
            m = score.metadata or {}
            tokens = sum(u.total_tokens or 0 for u in (sample.model_usage or {}).values())
            costs = [u.total_cost for u in (sample.model_usage or {}).values()]
            rows.append({
                "arm": arm,
                "solver": solver,
                "verifier": verifier,
                "pairing": pairing(solver, verifier),
                "problem_id": str(sample.id),
                "domain": m.get("domain"),
                "difficulty": m.get("difficulty"),
                "correct": score.value == "C",
                "parse_ok": bool(m.get("parse_ok", False)),
                "initial_correct": m.get("initial_correct"),
                "flagged": m.get("flagged"),
                "n_samples": m.get("n_samples", 1),
                "tokens": float(tokens),
                "cost_usd": float(sum(costs)) if costs and None not in costs else np.nan,
                "source": file,
            })
    return pd.DataFrame(rows, columns=ANSWER_COLUMNS)


def _arm_label(row) -> str:
    if row.arm == "verify":
        return f"verify {row.solver} by {row.verifier}"
    return f"{row.arm} {row.solver}"


def _wide(answers: pd.DataFrame) -> pd.DataFrame:
    """problems x arm-labels matrix of correctness (1/0, NaN where not run)."""
    labels = answers.apply(_arm_label, axis=1)
    return (
        answers.assign(label=labels, value=answers["correct"].astype(float))
        .pivot_table(index="problem_id", columns="label", values="value", aggfunc="mean")
    )


def _boot_index(n: int, n_bootstrap: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(n_bootstrap, n))


def accuracy_table(
    answers: pd.DataFrame,
    *,
    by_domain: bool = False,
    n_bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Accuracy per arm (and domain), with a bootstrap CI over problems.

    Returns:
        ``arm, solver, verifier, pairing, [domain,] n, accuracy, low, high,
        unparsable`` (share of answers in no parsable form).
    """
    keys = ["arm", "solver", "verifier", "pairing"] + (["domain"] if by_domain else [])
    lo, hi = (1 - confidence) / 2, 1 - (1 - confidence) / 2
    rows = []
    for key, group in answers.groupby(keys, sort=True):
        values = group["correct"].to_numpy(dtype=float)
        idx = _boot_index(values.size, n_bootstrap, seed)
        means = values[idx].mean(axis=1)
        rows.append({
            **dict(zip(keys, key)), "n": values.size, "accuracy": values.mean(),
            "low": float(np.quantile(means, lo)), "high": float(np.quantile(means, hi)),
            "unparsable": float(1 - group["parse_ok"].mean()),
        })
    return pd.DataFrame(rows, columns=[*keys, "n", "accuracy", "low", "high", "unparsable"])


def uplift_table(
    answers: pd.DataFrame,
    *,
    n_bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Uplift of each verification pair over its better member and over the control.

    For the pair (solver A, verifier B): ``acc(verify A by B) - max(acc(single A),
    acc(single B))`` and ``acc(verify A by B) - acc(self_consistency A)`` (the
    compute-matched control), on the problems all the arms involved answered, with paired
    bootstrap CIs (the same resampled problems for every arm; the better member is chosen
    again in each sample).

    Returns:
        ``solver, verifier, pairing, n, pair_accuracy, better_member, better_accuracy,
        uplift, uplift_low, uplift_high, control_accuracy, vs_control, vs_control_low,
        vs_control_high`` (control columns NaN without a self-consistency arm).
    """
    wide = _wide(answers)
    lo, hi = (1 - confidence) / 2, 1 - (1 - confidence) / 2
    pairs = answers[answers["arm"] == "verify"][["solver", "verifier", "pairing"]]
    rows = []
    for pair in pairs.drop_duplicates().itertuples():
        cols = {
            "pair": f"verify {pair.solver} by {pair.verifier}",
            "a": f"single {pair.solver}",
            "b": f"single {pair.verifier}",
            "control": f"self_consistency {pair.solver}",
        }
        if cols["a"] not in wide or cols["b"] not in wide:
            continue
        has_control = cols["control"] in wide
        needed = [cols["pair"], cols["a"], cols["b"]] + ([cols["control"]] if has_control else [])
        m = wide[needed].dropna()
        if m.empty:
            continue
        pair_v, a_v, b_v = (m[cols[k]].to_numpy() for k in ("pair", "a", "b"))
        idx = _boot_index(len(m), n_bootstrap, seed)
        better = np.maximum(a_v[idx].mean(axis=1), b_v[idx].mean(axis=1))
        boot_uplift = pair_v[idx].mean(axis=1) - better
        row = {
            "solver": pair.solver, "verifier": pair.verifier, "pairing": pair.pairing,
            "n": len(m), "pair_accuracy": pair_v.mean(),
            "better_member": pair.solver if a_v.mean() >= b_v.mean() else pair.verifier,
            "better_accuracy": max(a_v.mean(), b_v.mean()),
            "uplift": pair_v.mean() - max(a_v.mean(), b_v.mean()),
            "uplift_low": float(np.quantile(boot_uplift, lo)),
            "uplift_high": float(np.quantile(boot_uplift, hi)),
            "control_accuracy": np.nan, "vs_control": np.nan,
            "vs_control_low": np.nan, "vs_control_high": np.nan,
        }
        if has_control:
            c_v = m[cols["control"]].to_numpy()
            boot = (pair_v - c_v)[idx].mean(axis=1)
            row.update(control_accuracy=c_v.mean(), vs_control=(pair_v - c_v).mean(),
                       vs_control_low=float(np.quantile(boot, lo)),
                       vs_control_high=float(np.quantile(boot, hi)))
        rows.append(row)
    columns = ["solver", "verifier", "pairing", "n", "pair_accuracy", "better_member",
               "better_accuracy", "uplift", "uplift_low", "uplift_high", "control_accuracy",
               "vs_control", "vs_control_low", "vs_control_high"]
    return pd.DataFrame(rows, columns=columns)


def verifier_rates(answers: pd.DataFrame) -> pd.DataFrame:
    """How well each verifier catches the solver's mistakes.

    Returns:
        ``solver, verifier, pairing, n_wrong, true_positive_rate`` (wrong first answers it
        flagged), ``n_right, flag_rate_on_right`` (right first answers it flagged: its
        false-positive rate as a detector), ``talked_out_rate`` (right first answers that
        ended wrong: what its false alarms cost), ``fixed_rate`` (wrong first answers that
        ended right), ``unparsable_verdicts``.
    """
    verify = answers[answers["arm"] == "verify"]
    rows = []
    for (solver, verifier, pair), g in verify.groupby(["solver", "verifier", "pairing"]):
        initial = g["initial_correct"].astype("boolean")
        flagged = g["flagged"].astype("boolean").fillna(False)
        wrong, right = g[initial == False], g[initial == True]  # noqa: E712 - nullable
        f_wrong, f_right = flagged[initial == False], flagged[initial == True]  # noqa: E712
        rows.append({
            "solver": solver, "verifier": verifier, "pairing": pair,
            "n_wrong": len(wrong),
            "true_positive_rate": float(f_wrong.mean()) if len(wrong) else np.nan,
            "n_right": len(right),
            "flag_rate_on_right": float(f_right.mean()) if len(right) else np.nan,
            "talked_out_rate": float((~right["correct"]).mean()) if len(right) else np.nan,
            "fixed_rate": float(wrong["correct"].mean()) if len(wrong) else np.nan,
            "unparsable_verdicts": int(g["flagged"].isna().sum()),
        })
    return pd.DataFrame(rows, columns=[
        "solver", "verifier", "pairing", "n_wrong", "true_positive_rate", "n_right",
        "flag_rate_on_right", "talked_out_rate", "fixed_rate", "unparsable_verdicts"])


def error_correlation(answers: pd.DataFrame) -> pd.DataFrame:
    """Correlation of the models' errors on the same problems (single arm).

    Returns:
        ``model_a, model_b, n, both_wrong, phi`` (the phi coefficient of the two error
        indicators; NaN when a model never or always errs).
    """
    single = answers[answers["arm"] == "single"]
    wide = single.pivot_table(index="problem_id", columns="solver", values="correct",
                              aggfunc="mean")
    rows = []
    models = list(wide.columns)
    for i, a in enumerate(models):
        for b in models[i + 1:]:
            m = wide[[a, b]].dropna()
            ea, eb = 1 - m[a].to_numpy(), 1 - m[b].to_numpy()
            with np.errstate(invalid="ignore"):
                phi = np.corrcoef(ea, eb)[0, 1] if ea.std() > 0 and eb.std() > 0 else np.nan
            rows.append({"model_a": a, "model_b": b, "n": len(m),
                         "both_wrong": float((ea * eb).mean()), "phi": float(phi)})
    return pd.DataFrame(rows, columns=["model_a", "model_b", "n", "both_wrong", "phi"])


def cost_per_correct(answers: pd.DataFrame) -> pd.DataFrame:
    """Tokens (and dollars, where priced) spent per correct answer, per arm.

    Returns:
        ``arm, solver, verifier, n, correct, tokens, tokens_per_problem,
        tokens_per_correct, cost_usd, cost_per_correct``.
    """
    rows = []
    for (arm, solver, verifier), g in answers.groupby(["arm", "solver", "verifier"]):
        correct = int(g["correct"].sum())
        tokens = float(g["tokens"].sum())
        cost = float(g["cost_usd"].sum()) if g["cost_usd"].notna().all() else np.nan
        rows.append({
            "arm": arm, "solver": solver, "verifier": verifier, "n": len(g), "correct": correct,
            "tokens": tokens, "tokens_per_problem": tokens / len(g),
            "tokens_per_correct": tokens / correct if correct else np.inf,
            "cost_usd": cost, "cost_per_correct": cost / correct if correct else np.inf,
        })
    return pd.DataFrame(rows, columns=[
        "arm", "solver", "verifier", "n", "correct", "tokens", "tokens_per_problem",
        "tokens_per_correct", "cost_usd", "cost_per_correct"])
