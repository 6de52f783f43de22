"""How good the rule monitors are on the labelled corpus, and how fast.

    python bench/monitors.py [--corpus DIR] [--speed-logs N] [--workers W]

Reads the corpus (`bench/monitor_corpus.py` writes it; default bench/corpus/monitors),
runs every rule monitor on every attempt and compares with the labels: per monitor,
recall over the attempts labelled for it and false-positive rate over all others, each
with a Clopper-Pearson 95% interval (and the rule-of-three bound 3/n when there are no
misses, or no false alarms). Then times the rule monitors reading and scanning N logs
(the corpus cycled) in W processes. Writes bench/results/monitors.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
FAMILY_DIR = HERE / "monitor_family"


def clopper_pearson(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Return the exact binomial (Clopper-Pearson) interval of k successes in n trials."""
    from scipy.stats import beta

    if n == 0:
        return float("nan"), float("nan")
    low = 0.0 if k == 0 else float(beta.ppf(alpha / 2, k, n - k + 1))
    high = 1.0 if k == n else float(beta.ppf(1 - alpha / 2, k + 1, n - k))
    return low, high


def _scan(path: str) -> int:
    from rdbench.review import review_log

    return sum(len(a.findings) for a in review_log(path, use_cache=False).attempts)


def measure(corpus: Path) -> dict:
    """Return per-monitor counts, recall and FPR with intervals on the corpus."""
    from inspect_ai.log import read_eval_log

    from rdbench.review import RULE_MONITORS, read_transcripts, run_rules
    from rdbench.review.corpus import scenario_labels

    rows = []
    for path in sorted(corpus.glob("*.eval")):
        log = read_eval_log(str(path))
        labels = {s.id: scenario_labels(s.metadata) for s in log.samples}
        for t in read_transcripts(path):
            fired = {f.monitor for f in run_rules(t)}
            rows.append((path.stem, labels[t.sample_id] or frozenset(), fired))
    table = {}
    for name in RULE_MONITORS:
        pos = [r for r in rows if name in r[1]]
        neg = [r for r in rows if name not in r[1]]
        tp = sum(name in r[2] for r in pos)
        fp = sum(name in r[2] for r in neg)
        recall = tp / len(pos) if pos else float("nan")
        fpr = fp / len(neg) if neg else float("nan")
        table[name] = {
            "positives": len(pos), "negatives": len(neg), "true_positives": tp,
            "false_positives": fp, "recall": recall, "recall_ci95": clopper_pearson(tp, len(pos)),
            "recall_rule_of_three_low": 1 - 3 / len(pos) if pos and tp == len(pos) else None,
            "fpr": fpr, "fpr_ci95": clopper_pearson(fp, len(neg)),
            "fpr_rule_of_three_high": 3 / len(neg) if neg and fp == 0 else None,
            "missed": sorted(r[0] for r in pos if name not in r[2]),
            "false_alarms": sorted(r[0] for r in neg if name in r[2]),
        }
    benign = [r for r in rows if not r[1]]
    return {"attempts": len(rows), "benign_attempts": len(benign),
            "benign_with_any_finding": sorted(r[0] for r in benign if r[2]), "monitors": table}


def speed(corpus: Path, n_logs: int, workers: int) -> dict:
    """Return the wall time of reading and scanning ``n_logs`` logs in ``workers`` processes."""
    logs = sorted(str(p) for p in corpus.glob("*.eval"))
    chosen = [logs[i % len(logs)] for i in range(n_logs)]
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        findings = sum(pool.map(_scan, chosen, chunksize=16))
    elapsed = time.perf_counter() - start
    return {"logs": n_logs, "distinct_logs": len(logs), "workers": workers,
            "seconds": round(elapsed, 2), "logs_per_second": round(n_logs / elapsed, 1),
            "findings": findings, "includes": "reading each log with inspect_ai.log.read_eval_log "
            "(process start-up and imports included)"}


def main() -> None:
    """Measure and write bench/results/monitors.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=HERE / "corpus" / "monitors")
    parser.add_argument("--speed-logs", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "monitors.json")
    args = parser.parse_args()
    os.environ["RDBENCH_TASKS_PATH"] = str(FAMILY_DIR)
    os.environ.setdefault("INSPECT_DISPLAY", "none")
    result = {"corpus": str(args.corpus.relative_to(HERE.parent)) if args.corpus.is_relative_to(
        HERE.parent) else str(args.corpus), **measure(args.corpus)}
    result["speed"] = speed(args.corpus, args.speed_logs, args.workers)
    result["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    tmp.replace(args.out)
    print(f"{'monitor':22} {'pos':>4} {'recall':>7} {'95% CI':>15} {'neg':>4} {'FPR':>6} {'95% CI':>15}")
    for name, m in result["monitors"].items():
        r_lo, r_hi = m["recall_ci95"]
        f_lo, f_hi = m["fpr_ci95"]
        print(f"{name:22} {m['positives']:4d} {m['recall']:7.2f} [{r_lo:5.2f}, {r_hi:5.2f}] "
              f"{m['negatives']:4d} {m['fpr']:6.3f} [{f_lo:5.3f}, {f_hi:5.3f}]")
    s = result["speed"]
    print(f"speed: {s['logs']} logs in {s['seconds']} s on {s['workers']} workers "
          f"({s['logs_per_second']} logs/s); wrote {args.out}")


if __name__ == "__main__":
    main()
