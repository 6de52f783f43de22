"""fix_service: repair a broken batch service (sysadmin work: config, shell, Python env).

Each task's service lives in `envs/<task>/` of the workspace: a shell entry point, an INI
config and a small Python app that turns a CSV of payments into a JSON report. It is broken
in one to four ways (a wrong path, CRLF line endings, a case-sensitive section name, a
value with a unit, a stdlib module shadowed by a vendored shim, a wrong encoding, an unset
variable under `set -u`, float money arithmetic). The scorer generates a fresh payments
file from the task's seed, runs `bash envs/<task>/run.sh` in a one-shot jail with it, and
compares the report with its own computation on the host. Binary; a service that still
fails scores 0.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from rdbench.errors import InvalidSubmission
from rdbench.families._common import (
    FamilyBase,
    VariantSpec,
    read_json_output,
    rng,
    run_command,
    scratch_dirs,
)
from rdbench.tasks.contract import Resources, TaskVariant

RUN_TIMEOUT_S = 60.0
USERS = ["Ana", "Björn", "Chidi", "Dana", "Émile", "Farid", "Gül", "Hiro", "Łukasz", "Zoë"]
CURRENCIES = ["EUR", "EUR", "EUR", "USD", "GBP", "eur"]
REPORT_KEYS = ("count", "total_cents", "top_user", "users")


def events_csv(task: str, purpose: str, rows: int = 400) -> str:
    """Return a payments CSV (user, amount, currency) drawn from the task's seed."""
    g = rng("fix_service", task, purpose)
    lines = ["user,amount,currency"]
    for _ in range(rows):
        cents = int(g.integers(100, 100_000))
        user = USERS[int(g.integers(0, len(USERS)))]
        currency = CURRENCIES[int(g.integers(0, len(CURRENCIES)))]
        lines.append(f"{user},{cents // 100}.{cents % 100:02d},{currency}")
    return "\n".join(lines) + "\n"


def expected_report(csv_text: str, currency: str = "EUR", threshold: str = "250") -> dict[str, Any]:
    """Return the report the working service writes for `csv_text` (computed on the host)."""
    limit = int(Decimal(threshold) * 100)
    totals: dict[str, int] = {}
    count = 0
    for line in csv_text.splitlines()[1:]:
        user, amount, cur = line.split(",")
        cents = int(Decimal(amount) * 100)
        if cur != currency or cents < limit:
            continue
        count += 1
        totals[user] = totals.get(user, 0) + cents
    top = min(totals, key=lambda u: (-totals[u], u)) if totals else None
    return {
        "count": count,
        "total_cents": sum(totals.values()),
        "top_user": top,
        "users": len(totals),
    }


class FixService(FamilyBase):
    name = "fix_service"
    summary = "Repair a broken batch service: config, shell script, Python environment"
    resources = Resources(cores=2, memory_mb=2048, disk_mb=512)
    quick = True
    specs = (
        VariantSpec("config", 3, {"faults": "one fault"}),
        VariantSpec("script", 10, {"faults": "three faults"}),
        VariantSpec("deps", 25, {"faults": "four faults, one of them silent"}),
    )

    def score_variant(self, workspace: Path, variant: TaskVariant, spec: VariantSpec) -> float:
        """Return 1.0 when the task's service writes the right report for a fresh input.

        Returns 0.0 when the service fails, times out or writes a wrong report.

        Raises:
            InvalidSubmission: the report is a symlink, too large or not a JSON object.
        """
        text = events_csv(spec.name, "test")
        with scratch_dirs("rdbench-fix-service-") as (inputs, outputs):
            (inputs / "events.csv").write_text(text, encoding="utf-8")
            run = run_command(
                workspace,
                ["bash", f"envs/{spec.name}/run.sh"],
                timeout=RUN_TIMEOUT_S,
                input_dir=inputs,
                output_dir=outputs,
                env={"INPUT_DIR": "/input", "OUTPUT_DIR": "/output"},
                label=f"envs/{spec.name}/run.sh",
            )
            if not run.ok:
                return 0.0
            if (
                not (outputs / "report.json").exists()
                and not (outputs / "report.json").is_symlink()
            ):
                return 0.0
            report = read_json_output(outputs, "report.json", max_bytes=1 << 16)
        if not isinstance(report, dict):
            raise InvalidSubmission("report.json must hold a JSON object")
        truth = expected_report(text)
        return 1.0 if all(report.get(k) == truth[k] for k in REPORT_KEYS) else 0.0


if __name__ == "__main__":  # writes the workspace sample
    here = Path(__file__).parent / "workspace" / "sample"
    sample = events_csv("all", "sample")
    (here / "events.csv").write_text(sample, encoding="utf-8")
    (here / "expected_report.json").write_text(
        json.dumps(expected_report(sample), ensure_ascii=False) + "\n", encoding="utf-8"
    )
