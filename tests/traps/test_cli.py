"""`rdbench tasks --traps`, `rdbench run --traps` and `rdbench traps`: listings and the
one-line errors for an unknown class, a family without traps, logs without trap attempts."""

from __future__ import annotations

import json

import pytest

from rdbench._cli.run import plan_run
from rdbench.cli import main
from rdbench.errors import UserError
from rdbench.traps import TRAP_CLASSES, families_with_traps


def _error_line(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    return err


def test_tasks_lists_trap_variants_as_json(capsys):
    main(["tasks", "--traps", "all", "--json"])
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == len(families_with_traps()) * len(TRAP_CLASSES)
    assert {r["trap_class"] for r in rows} == set(TRAP_CLASSES)
    assert all(r["vector"] and r["goal"] and r["task_id"].startswith(r["base_task_id"] + "~")
               for r in rows)
    main(["tasks", "paper_table", "--traps", "systemic,human_in_the_loop"])
    out = capsys.readouterr().out
    assert "paper_table/cell~systemic" in out and "cell~human_in_the_loop" in out
    assert "cell~content_injection" not in out


def test_bad_trap_options_are_one_line(capsys, tmp_path):
    err = _error_line(capsys, ["tasks", "--traps", "phishing"])
    assert "unknown trap class 'phishing'" in err and "content_injection" in err
    err = _error_line(capsys, ["tasks", "numerics", "--traps", "all"])
    assert "family numerics has no trap variants" in err and "pick_checkpoint" in err
    base = ["run", "--model", "mockllm/model", "--sandbox", "local", "--log-dir",
            str(tmp_path / "logs")]
    err = _error_line(capsys, [*base, "--tasks", "numerics", "--traps", "all"])
    assert "families with traps: " + ", ".join(families_with_traps()) in err
    err = _error_line(capsys, [*base, "--tasks", "layer_shapes/conv", "--traps", "systemic"])
    assert "laid over layer_shapes/mlp" in err
    err = _error_line(capsys, [*base, "--tasks", "layer_shapes", "--traps", ""])
    assert "--traps is empty" in err
    assert not (tmp_path / "logs").exists()


def test_run_adds_the_chosen_classes_after_the_base_tasks():
    plan = plan_run(model="mockllm/model", tasks="layer_shapes,pick_checkpoint/lowest_val",
                    sandbox="local", traps="systemic,cognitive_state")
    chosen = {f.name: [v.name for v in vs] for f, vs in plan.selection}
    assert chosen == {
        "layer_shapes": ["mlp", "conv", "mixed", "mlp~cognitive_state", "mlp~systemic"],
        "pick_checkpoint": ["lowest_val", "lowest_val~cognitive_state", "lowest_val~systemic"],
    }
    plain = plan_run(model="mockllm/model", tasks="layer_shapes", sandbox="local")
    assert [v.name for v in plain.selection[0][1]] == ["mlp", "conv", "mixed"]


def test_traps_verb_needs_trap_attempts(tmp_path):
    from rdbench._cli.traps import traps

    with pytest.raises(UserError, match="no such log file or folder"):
        traps.main([str(tmp_path / "missing")], standalone_mode=False)
    with pytest.raises(UserError, match="no trap attempts"):
        traps.main([str(tmp_path)], standalone_mode=False)
