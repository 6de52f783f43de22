"""scaling_law: submission validation, the scoring rule, hidden-table isolation, calibration."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

from rdbench.errors import InvalidSubmission
from rdbench.tasks import load_families, materialize, score_solution

SMALL_TABLE = [
    {"d_model": 32, "params": 1000, "test_loss": 1.90},
    {"d_model": 64, "params": 4000, "test_loss": 1.70},
    {"d_model": 96, "params": 9000, "test_loss": 1.75},
]


@pytest.fixture(scope="module")
def family():
    return load_families(["scaling_law"])[0]


@pytest.fixture(scope="module")
def module(family):
    return importlib.import_module(type(family).__module__)


@pytest.fixture(scope="module")
def workspace_train(family):
    path = family.workspace_dir / "train.py"
    spec = importlib.util.spec_from_file_location("sl_train_for_tests", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _submit(workspace: Path, content) -> Path:
    workspace.mkdir(parents=True, exist_ok=True)
    text = content if isinstance(content, str) else json.dumps(content)
    (workspace / "submission.json").write_text(text)
    return workspace


# -- the scoring rule ---------------------------------------------------------------------------
def test_score_is_regret_plus_prediction_error(module):
    # best width (64) predicted exactly: 0
    assert module.allocation_score(SMALL_TABLE, 64, 1.70) == pytest.approx(0.0)
    # best width, prediction off by 0.05 either way
    assert module.allocation_score(SMALL_TABLE, 64, 1.75) == pytest.approx(0.05)
    assert module.allocation_score(SMALL_TABLE, 64, 1.65) == pytest.approx(0.05)
    # width 32: regret 0.20, predicted 1.80 against 1.90 reached: error 0.10
    assert module.allocation_score(SMALL_TABLE, 32, 1.80) == pytest.approx(0.30)
    # the prediction is judged against the loss the chosen width reaches, not the best one
    assert module.allocation_score(SMALL_TABLE, 96, 1.75) == pytest.approx(0.05)


def test_unknown_width_is_a_key_error(module):
    with pytest.raises(KeyError):
        module.allocation_score(SMALL_TABLE, 48, 1.7)


def test_budget_check_counts_every_parameter(module):
    tokens = int(module.TARGET_FLOPS / (6 * 4000))
    module.check_allocation({"d_model": 64, "tokens": tokens}, SMALL_TABLE)
    with pytest.raises(InvalidSubmission, match="must spend the budget"):
        module.check_allocation({"d_model": 64, "tokens": tokens // 2}, SMALL_TABLE)
    with pytest.raises(InvalidSubmission, match="d_model must be one of"):
        module.check_allocation({"d_model": 48, "tokens": tokens}, SMALL_TABLE)


# -- format validation ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ({"d_model": 64, "tokens": 10}, "lacks the field"),
        ({"d_model": 64, "tokens": 10, "predicted_loss": 1.5, "seed": 3}, "unknown field"),
        ({"d_model": "64", "tokens": 10, "predicted_loss": 1.5}, "d_model must be an integer"),
        ({"d_model": 64, "tokens": 1.5e6, "predicted_loss": 1.5}, "tokens must be an integer"),
        ({"d_model": 64, "tokens": 10, "predicted_loss": "low"}, "finite number"),
        ({"d_model": 64, "tokens": 10, "predicted_loss": -1}, "in \\(0, 10\\)"),
        ({"d_model": 64, "tokens": 10, "predicted_loss": True}, "finite number"),
    ],
)
def test_malformed_submissions_are_rejected_clearly(family, tmp_path, content, message):
    workspace = _submit(tmp_path / "ws", content)
    with pytest.raises(InvalidSubmission, match=message):
        family.validate(workspace, family.variants()[0])


def test_missing_submission_is_rejected(family, tmp_path):
    (tmp_path / "ws").mkdir()
    with pytest.raises(InvalidSubmission, match="submission.json is missing"):
        family.validate(tmp_path / "ws", family.variants()[0])


def test_validate_reveals_no_loss(family, tmp_path):
    row = family.table()[0]
    tokens = int(3e12 / (6 * row["params"]))
    submission = {"d_model": row["d_model"], "tokens": tokens, "predicted_loss": 1.5}
    workspace = _submit(tmp_path / "ws", submission)
    message = family.validate(workspace, family.variants()[0])
    assert "valid" in message
    assert f"{row['test_loss']:.3f}" not in message and "regret" not in message


def test_score_is_hidden_from_the_agent(family):
    assert family.score_visible is False
    assert family.final_score_policy == "final"


# -- the workspace and the hidden table ---------------------------------------------------------
def test_hidden_table_never_reaches_the_workspace(family, tmp_path):
    for solution in ("starting", "reference"):
        workspace = materialize(family, tmp_path / solution, solution)
        names = {p.name for p in workspace.rglob("*")}
        assert "table.json" not in names
        assert {"train.py", "submission.json", "runs.jsonl"} <= names
        table_text = (family.hidden_dir / "table.json").read_text()
        for path in workspace.rglob("*"):
            if path.is_file() and path.suffix in (".json", ".jsonl", ".py", ".md"):
                assert table_text not in path.read_text()


def test_table_matches_the_workspace_train_script(family, module, workspace_train):
    table = json.loads((family.hidden_dir / "table.json").read_text())
    assert table["target_flops"] == workspace_train.TARGET_FLOPS == module.TARGET_FLOPS
    assert [r["d_model"] for r in table["rows"]] == list(workspace_train.SIZES)
    for row in table["rows"]:
        assert row["params"] == workspace_train.param_count(row["d_model"])
        assert row["flops"] == pytest.approx(workspace_train.TARGET_FLOPS, rel=0.01)


def test_workspace_tokenizer_matches_the_corpus(workspace_train):
    from rdbench.tasks import _corpus

    text = _corpus.corpus_splits()[1][:20000]
    assert workspace_train.VOCAB_SIZE == _corpus.VOCAB_SIZE
    assert (workspace_train.encode(text) == _corpus.encode_array(text)).all()


def test_train_script_refuses_runs_above_the_cap(workspace_train, capsys):
    assert workspace_train.main(["--d-model", "192", "--tokens", "10000000"]) == 2
    assert "above the cap" in capsys.readouterr().err


# -- calibration: start scores 0, reference 1 (deterministic: a table lookup) ----------------
@pytest.mark.parametrize(("solution", "expected"), [("starting", 0.0), ("reference", 1.0)])
def test_starting_and_reference_calibration(family, solution, expected):
    result = score_solution(family, family.variants()[0], solution)
    assert result.valid, result.message
    assert result.normalized == pytest.approx(expected, abs=0.05)


# -- the compute cap (issue 20, item 5) --------------------------------------------------------
def test_given_runs_are_all_within_the_cap(family, workspace_train):
    runs = [json.loads(line) for line in (family.workspace_dir / "runs.jsonl").open()]
    assert len(runs) >= 10
    for run in runs:
        assert run["params"] == workspace_train.param_count(run["d_model"])
        assert run["flops"] == pytest.approx(6 * run["params"] * run["tokens"])
        assert run["flops"] <= workspace_train.CAP_FLOPS


def test_workspace_holds_no_text_to_train_on(family, tmp_path):
    from rdbench.tasks import _corpus

    workspace = materialize(family, tmp_path / "ws", "starting")
    files = [p for p in workspace.rglob("*") if p.is_file()]
    assert not [p for p in files if p.suffix in (".gz", ".txt", ".bz2", ".xz", ".zip")]
    contents = "".join(p.read_bytes().decode("latin-1") for p in files)
    train_text, validation_text, _ = _corpus.corpus_splits()
    for text in (train_text, validation_text):
        verses = sorted(text.splitlines(), key=len)[-20:]  # the longest, most distinctive
        assert not [v for v in verses if v in contents]


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap missing")
def test_training_at_the_full_budget_is_impossible_in_the_workspace(family, tmp_path):
    # The attack: skip train.py's cap check by calling train.train() directly at 3e12
    # FLOPs, reproducing the hidden table. Its first step, loading the text, must fail.
    from rdbench.sandbox import JailSpec, run_jailed

    workspace = materialize(family, tmp_path / "ws", "starting")
    (workspace / "attack.py").write_text(
        "import train\n"
        "tokens = train.load_split('train')\n"
        "print('loaded', len(tokens))\n"
    )
    spec = JailSpec(workspace=workspace, workspace_writable=True)
    proc = run_jailed(spec, [sys.executable, "attack.py"], timeout=300)
    assert b"loaded" not in proc.stdout
    assert proc.returncode != 0 and b"FileNotFoundError" in proc.stderr
    assert workspace_main(family, tmp_path) == 2


def workspace_main(family, tmp_path) -> int:
    """Run the workspace's train.py main() for one capped run; return its exit code."""
    path = family.workspace_dir / "train.py"
    spec = importlib.util.spec_from_file_location("sl_train_no_data", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.DATA_DIR = tmp_path / "no-data"
    return mod.main(["--d-model", "16", "--tokens", "40960"])
