"""fix_service: start fails, reference passes, a half-fixed or hard-coded service fails,
and a symlinked report is refused."""

from __future__ import annotations

import importlib
import json
import shutil

import pytest

from rdbench.tasks import load_families, materialize, score_solution, score_workspace

CANARY = "CANARY-fixsvc-3b7a"


@pytest.fixture(scope="module")
def family():
    return load_families(["fix_service"])[0]


@pytest.fixture(scope="module")
def module(family):
    return importlib.import_module(type(family).__module__)


@pytest.fixture(scope="module")
def variants(family):
    return {v.name: v for v in family.variants()}


def test_start_fails_and_reference_passes_on_every_task(family):
    for variant in family.variants():
        assert score_solution(family, variant, "starting").normalized == 0.0
        assert score_solution(family, variant, "reference").normalized == 1.0


def test_sample_is_seeded_and_differs_from_the_scored_input(family, module):
    sample = (family.workspace_dir / "sample" / "events.csv").read_text(encoding="utf-8")
    assert sample == module.events_csv("all", "sample")
    expected = json.loads((family.workspace_dir / "sample" / "expected_report.json").read_text())
    assert expected == module.expected_report(sample)
    assert module.events_csv("deps", "test") != sample


def test_float_money_and_a_hard_coded_report_fail(family, variants, tmp_path):
    # every loud fault fixed, the silent one (float cents) left in
    ws = materialize(family, tmp_path / "float", "reference")
    starting_money = family.starting_dir / "envs" / "deps" / "app" / "vendor" / "money.py"
    shutil.copy(starting_money, ws / "envs" / "deps" / "app" / "vendor" / "money.py")
    result = score_workspace(family, variants["deps"], ws)
    assert result.valid and result.normalized == 0.0
    # a run.sh that just copies the sample's report
    ws = materialize(family, tmp_path / "copy", "reference")
    (ws / "envs" / "config" / "run.sh").write_text(
        'cp sample/expected_report.json "$OUTPUT_DIR/report.json"\n'
    )
    result = score_workspace(family, variants["config"], ws)
    assert result.valid and result.normalized == 0.0


def test_symlinked_report_and_stderr_do_not_reach_the_scorer(family, variants, tmp_path):
    host = tmp_path / "host.json"
    host.write_text(json.dumps({"count": CANARY}))
    ws = materialize(family, tmp_path / "link", "reference")
    (ws / "envs" / "config" / "run.sh").write_text(f'ln -s {host} "$OUTPUT_DIR/report.json"\n')
    result = score_workspace(family, variants["config"], ws)
    # the jail drops the link from what it hands back: no report, so no case passes
    assert not result.normalized and CANARY not in result.message, result
    ws = materialize(family, tmp_path / "noise", "reference")
    (ws / "envs" / "config" / "run.sh").write_text(f"echo {CANARY} >&2\nexit 3\n")
    result = score_workspace(family, variants["config"], ws)
    assert result.normalized == 0.0 and CANARY not in result.message
