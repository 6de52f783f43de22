"""Machine calibration of timing-sensitive families (`rdbench calibrate`).

A toy timing family whose "time" is a number written in the solution: calibration then
measures known values, so the anchors it stores can be checked exactly. Each test has its
own cache folder, so nothing leaks into the session's cache.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rdbench.errors import UserError
from rdbench.tasks import Normalization, load_families, score_solution
from rdbench.tasks.calibration import (
    calibrate,
    calibration_path,
    load_calibration,
    machine_fingerprint,
    remove_calibration,
)

TIMED = """
import itertools

from rdbench.errors import InvalidSubmission
from rdbench.tasks.contract import Normalization, TaskFamily

class {cls}(TaskFamily):
    name = "{name}"
    human_minutes = 60.0
    timing_sensitive = True
    # the "reference machine" ran the start in 4 s and the reference in 1 s
    normalization = Normalization(start=4.0, reference=1.0, transform="log", direction="lower")
    _calls = itertools.count()

    def score(self, workspace, variant):
        try:
            seconds = float((workspace / "seconds.txt").read_text())
        except (OSError, ValueError) as ex:
            raise InvalidSubmission(f"seconds.txt must hold a number: {{ex}}")
        # a noisy machine: every other scoring of a solution takes {noise}x longer
        return seconds * ({noise} if next(self._calls) % 2 else 1.0)
"""

UNTIMED = """
from rdbench.tasks.contract import Normalization, TaskFamily

class Untimed(TaskFamily):
    name = "untimed"
    human_minutes = 60.0
    normalization = Normalization(start=0.0, reference=1.0)

    def score(self, workspace, variant):
        return float((workspace / "seconds.txt").read_text())
"""


FLAKY = """
import itertools

from rdbench.tasks.contract import Normalization, TaskFamily

class Flaky(TaskFamily):
    name = "flaky"
    human_minutes = 60.0
    timing_sensitive = True
    normalization = Normalization(start=2.0, reference=0.5, transform="log", direction="lower")
    _calls = itertools.count()

    def score(self, workspace, variant):
        seconds = float((workspace / "seconds.txt").read_text())
        # the very first scoring hits a slow stretch of a shared machine
        return seconds * (1.5 if next(self._calls) == 0 else 1.0)
"""


BUSY = """
import itertools

from rdbench.errors import TimingUnreliable
from rdbench.tasks.contract import Normalization, ScoreResult, TaskFamily

class Busy(TaskFamily):
    name = "busy"
    human_minutes = 60.0
    timing_sensitive = True
    normalization = Normalization(start=2.0, reference=0.5, transform="log", direction="lower")
    _calls = itertools.count()

    def score(self, workspace, variant):
        seconds = float((workspace / "seconds.txt").read_text())
        # the reference cannot be timed on this machine; the start can, after one retry
        if seconds < 1 or next(self._calls) == 0:
            raise TimingUnreliable("timing unreliable: yardstick spread 31%")
        return ScoreResult(seconds, {"solution_s": [seconds]})
"""


def _family_folder(root: Path, name: str, source: str, start: str, reference: str) -> None:
    folder = root / name
    for sub in ("workspace", "starting", "reference"):
        (folder / sub).mkdir(parents=True)
    (folder / "family.py").write_text(textwrap.dedent(source))
    (folder / "instructions.md").write_text("Make it faster.")
    (folder / "starting" / "seconds.txt").write_text(start)
    (folder / "reference" / "seconds.txt").write_text(reference)


@pytest.fixture
def families(tmp_path, monkeypatch):
    """Three families on RDBENCH_TASKS_PATH (this machine: start 2 s, reference 0.5 s)."""
    root = tmp_path / "families"
    _family_folder(root, "timed", TIMED.format(cls="Timed", name="timed", noise=1.0), "2", "0.5")
    _family_folder(root, "noisy", TIMED.format(cls="Noisy", name="noisy", noise=1.5), "2", "0.5")
    _family_folder(root, "untimed", UNTIMED, "0", "1")
    _family_folder(root, "flaky", FLAKY, "2", "0.5")
    _family_folder(root, "busy", BUSY, "2", "0.5")
    monkeypatch.setenv("RDBENCH_TASKS_PATH", str(root))
    monkeypatch.setenv("RDBENCH_CACHE", str(tmp_path / "cache"))
    return root


def _timed():
    return load_families(["timed"])[0]


def test_shipped_anchors_until_calibrated(families):
    family = _timed()
    normalization = family.variants()[0].normalization
    assert (normalization.start, normalization.reference) == (4.0, 1.0)
    assert normalization.anchors == "shipped"
    # on this "faster machine" the shipped anchors score the reference 1.5, the start 0.5
    variant = family.variants()[0]
    assert score_solution(family, variant, "reference").normalized == pytest.approx(1.5)
    assert score_solution(family, variant, "starting").normalized == pytest.approx(0.5)


def test_calibration_measures_both_solutions_and_scores_use_it(families):
    messages: list[str] = []
    calibration = calibrate(_timed(), repeats=3, progress=messages.append)
    assert (calibration.start, calibration.reference) == (2.0, 0.5)
    assert calibration.start_runs == [2.0, 2.0, 2.0]
    assert calibration.machine == machine_fingerprint()
    assert any("reference solution (3/3)" in m for m in messages)

    family = _timed()  # a new run loads the stored calibration
    variant = family.variants()[0]
    assert (variant.normalization.start, variant.normalization.reference) == (2.0, 0.5)
    assert variant.normalization.transform == "log" and variant.normalization.direction == "lower"
    assert variant.normalization.anchors.startswith("calibrated on this machine at ")
    assert variant.normalization.as_dict()["anchors"] == variant.normalization.anchors
    assert score_solution(family, variant, "reference").normalized == pytest.approx(1.0)
    assert score_solution(family, variant, "starting").normalized == pytest.approx(0.0)


def test_a_changed_family_or_another_machine_makes_it_stale(families):
    calibrate(_timed(), repeats=1)
    assert load_calibration(_timed()) is not None
    path = calibration_path(_timed())

    data = json.loads(path.read_text())
    data["machine"]["cpu_model"] = "some other CPU"
    path.write_text(json.dumps(data))
    assert load_calibration(_timed()) is None
    assert _timed().variants()[0].normalization.anchors == "shipped"

    calibrate(_timed(), repeats=1)
    (families / "timed" / "README.md").write_text("documentation changes no timing")
    assert load_calibration(_timed()) is not None
    (families / "timed" / "reference" / "seconds.txt").write_text("0.4")  # a new reference
    assert load_calibration(_timed()) is None
    assert _timed().variants()[0].normalization.start == 4.0


def test_a_corrupt_calibration_file_is_ignored_with_a_warning_and_replaced(families, caplog):
    path = calibration_path(_timed())
    path.write_text("{not json")
    with caplog.at_level("WARNING"):
        assert _timed().variants()[0].normalization.anchors == "shipped"
    assert "unreadable" in caplog.text and "rdbench calibrate timed" in caplog.text
    path.write_text(json.dumps({"format": 1, "family": "timed"}))  # fields missing
    assert load_calibration(_timed()) is None
    calibrate(_timed(), repeats=1)  # a new calibration replaces it
    assert load_calibration(_timed()).start == 2.0


def test_noisy_timings_store_nothing_and_keep_the_old_calibration(families):
    noisy = load_families(["noisy"])[0]
    messages: list[str] = []
    with pytest.raises(UserError, match="too busy"):
        calibrate(noisy, repeats=3, progress=messages.append)
    # it stops at the second disagreeing run, without timing the rest
    assert messages[-1].startswith("noisy: starting run 2")
    assert not any("reference" in m for m in messages)
    assert not calibration_path(noisy).exists()
    # one run per solution cannot show noise; a later noisy attempt keeps that calibration
    calibrate(noisy, repeats=1)
    before = calibration_path(noisy).read_text()
    with pytest.raises(UserError, match="too busy"):
        calibrate(noisy, repeats=3)
    assert calibration_path(noisy).read_text() == before
    # a looser limit, asked for, accepts the noise (the anchor is the median)
    assert calibrate(noisy, repeats=3, max_spread=0.5).start in (2.0, 3.0)
    with pytest.raises(UserError, match="max-spread"):
        calibrate(noisy, max_spread=0)


def test_unreliable_timing_stores_no_calibration(families):
    family = load_families(["busy"])[0]
    with pytest.raises(UserError, match="timing unreliable: yardstick spread 31% while timing"):
        calibrate(family, repeats=1)
    assert not calibration_path(family).exists()


def test_calibration_not_needed_where_the_ratios_hold(families):
    from rdbench.tasks.calibration import calibration_needed, shipped_scores

    family = _timed()
    calibration = calibrate(family, repeats=1)
    # on shipped anchors measured where the start took 2.04 and the reference 0.5: off by
    # 0.014 at the start, so not needed
    shipped = Normalization(start=2.04, reference=0.5, transform="log", direction="lower")
    assert shipped_scores(calibration, shipped)["starting"] == pytest.approx(0.014, abs=1e-3)
    assert calibration_needed(calibration, shipped) is False
    assert calibration_needed(calibration, family.normalization) is True


def test_untimed_families_are_not_calibrated(families):
    untimed = load_families(["untimed"])[0]
    with pytest.raises(UserError, match="does not time solutions"):
        calibrate(untimed)
    assert untimed.variants()[0].normalization.anchors == "shipped"


def test_remove_goes_back_to_the_shipped_anchors(families):
    family = _timed()
    calibrate(family, repeats=1)
    assert family.active_normalization().start == 2.0
    assert remove_calibration(family) is True
    assert family.active_normalization().start == 4.0
    assert remove_calibration(family) is False


def test_check_measures_a_timing_outlier_again(families):
    from rdbench._cli.check import check_family

    starting, reference = check_family(load_families(["flaky"])[0])
    # 1.5x slower first, then measured twice more: judged on the median of the three
    assert starting["ok"] and starting["normalized"] == [pytest.approx(0.0)]
    assert starting["earlier"] == [[pytest.approx(-0.292, abs=1e-3)], [pytest.approx(0.0)]]
    assert starting["median"] == pytest.approx(0.0)
    assert reference["ok"] and reference["earlier"] == []
    # anchors that are wrong for this machine fail every measurement, and so the median
    shifted_start, shifted_reference = check_family(_timed())
    for row, median in ((shifted_start, 0.5), (shifted_reference, 1.5)):
        assert not row["ok"] and len(row["earlier"]) == 2
        assert row["median"] == pytest.approx(median)
    # a family that declares a wider tolerance (its measured reproducibility) is judged by it
    lenient = _timed()
    lenient.check_tolerance = 0.6
    lenient_start, lenient_reference = check_family(lenient)
    assert lenient_start["ok"] and lenient_reference["ok"]
    assert lenient_start["tolerance"] == 0.6 and lenient_start["earlier"] == []
    # with no retries the outlier fails; untimed families are never measured twice
    (row, _) = check_family(load_families(["flaky"])[0], retries=0)
    assert not row["ok"] and row["earlier"] == []
    (untimed_start, _) = check_family(load_families(["untimed"])[0], retries=3)
    assert untimed_start["earlier"] == []


def test_check_reports_unreliable_timing_as_such_not_as_a_failure(families):
    from rdbench._cli.check import EXIT_TIMING_UNRELIABLE, check_family, exit_status

    starting, reference = check_family(load_families(["busy"])[0])
    # measured again: the start then scores; the reference stays unreliable and is no FAIL
    assert starting["ok"] and starting["earlier"] == [[None], [0.0]]
    assert starting["details"] == {"solution_s": [2.0]}
    assert not reference["ok"] and not reference["valid"]
    assert reference["timing_unreliable"] == "timing unreliable: yardstick spread 31%"
    assert exit_status([starting, reference]) == EXIT_TIMING_UNRELIABLE == 3
    assert exit_status([starting]) == 0
    assert exit_status([starting, reference, {**starting, "ok": False}]) == 1


def test_cli_check_says_retry_on_a_quieter_machine(families, tmp_path):
    env = {"RDBENCH_TASKS_PATH": str(families), "RDBENCH_CACHE": str(tmp_path / "cache"),
           "COLUMNS": "250"}
    out = tmp_path / "check.json"
    proc = _cli("check", "busy", "--json", str(out), env_extra=env)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "timing unreliable: yardstick spread 31% — retry on a quieter machine" in proc.stdout
    assert "FAIL" not in proc.stdout and "calibrate" not in proc.stderr
    rows = json.loads(out.read_text())
    assert [r["timing_unreliable"] for r in rows] == [None, "timing unreliable: yardstick spread 31%"]


def _cli(*args: str, env_extra: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rdbench.cli", *args], check=False,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env_extra})


def test_cli_calibrate_show_check_and_remove(families, tmp_path):
    env = {"RDBENCH_TASKS_PATH": str(families), "RDBENCH_CACHE": str(tmp_path / "cache"),
           "COLUMNS": "200"}
    # check on the shipped anchors fails on this "other machine", and says what to do
    proc = _cli("check", "timed", env_extra=env)
    assert proc.returncode == 1
    assert "run `rdbench calibrate`" in proc.stderr
    # measured three times: wrong anchors fail every time, and so does their median
    assert "measured after 0.500, 0.500; median 0.500" in proc.stdout

    out = tmp_path / "anchors.json"
    proc = _cli("calibrate", "timed", "--repeats", "2", "--json", str(out), env_extra=env)
    assert proc.returncode == 0, proc.stderr
    assert "here, " in proc.stdout
    (row,) = json.loads(out.read_text())
    assert (row["start"], row["reference"], row["shipped_start"]) == (2.0, 0.5, 4.0)
    assert row["shipped_would_score_reference"] == pytest.approx(1.5)
    # the shipped anchors are off here by 0.5 at both ends: the calibration matters
    assert row["shipped_would_score"] == {"starting": pytest.approx(0.5),
                                          "reference": pytest.approx(1.5)}
    assert row["calibration_needed"] is True
    assert "0.500 / 1.500" in proc.stdout and "yes" in proc.stdout

    proc = _cli("check", "timed", env_extra=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "anchors: calibrated on this machine" in proc.stderr

    proc = _cli("calibrate", "--remove", env_extra=env)
    assert proc.returncode == 0 and "calibration removed" in proc.stderr
    proc = _cli("calibrate", "--show", "timed", env_extra=env)
    assert proc.returncode == 0 and "shipped" in proc.stdout


def test_cli_calibrate_errors_are_one_line(families, tmp_path):
    env = {"RDBENCH_TASKS_PATH": str(families), "RDBENCH_CACHE": str(tmp_path / "cache")}
    proc = _cli("calibrate", "untimed", env_extra=env)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "does not time solutions" in proc.stderr
    proc = _cli("calibrate", "noisy", "--repeats", "2", env_extra=env)
    assert proc.returncode == 2 and "too busy" in proc.stderr and "Traceback" not in proc.stderr
    proc = _cli("calibrate", "--repeats", "0", env_extra=env)
    assert proc.returncode == 2


def test_cpu_quota_is_the_smallest_on_the_way_up(tmp_path):
    from rdbench.sandbox.cgroups import cpu_cgroup_folders, cpu_quota

    # cgroup v2: /sys/fs/cgroup/job/step, 1.5 cores at "job", unlimited at "step"
    v2 = tmp_path / "v2"
    (v2 / "job" / "step").mkdir(parents=True)
    (v2 / "cpu.max").write_text("max 100000\n")
    (v2 / "job" / "cpu.max").write_text("150000 100000\n")
    (v2 / "job" / "step" / "cpu.max").write_text("max 100000\n")
    proc = tmp_path / "cgroup-v2"
    proc.write_text("0::/job/step\n")
    folders = cpu_cgroup_folders(v2, proc)
    assert folders == [v2 / "job" / "step", v2 / "job", v2]
    assert cpu_quota(folders) == 1.5

    # cgroup v1 (hybrid): the cpu controller's own hierarchy decides
    v1 = tmp_path / "v1"
    (v1 / "cpu" / "box").mkdir(parents=True)
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    (v1 / "cpu" / "box" / "cpu.cfs_quota_us").write_text("200000\n")
    (v1 / "cpu" / "box" / "cpu.cfs_period_us").write_text("100000\n")
    proc = tmp_path / "cgroup-v1"
    proc.write_text("4:memory:/elsewhere\n1:cpu:/box\n0::/\n")
    folders = cpu_cgroup_folders(v1, proc)
    assert folders == [v1 / "cpu" / "box", v1 / "cpu"]
    assert cpu_quota(folders) == 2.0

    # no quota anywhere, or no cgroup file at all
    assert cpu_quota([v1 / "cpu"]) is None
    assert cpu_cgroup_folders(v1, tmp_path / "absent") == []


def test_the_self_calibrating_kernel_family_is_not_calibrated(tmp_path, monkeypatch):
    """optimize_kernel times both ends of its scale in every scoring: calibrating it is
    refused with one line, and a calibration file left by an earlier version is ignored."""
    monkeypatch.setenv("RDBENCH_CACHE", str(tmp_path / "cache"))
    family = load_families(["optimize_kernel"])[0]
    with pytest.raises(UserError, match="nothing to calibrate"):
        calibrate(family, repeats=1)
    stale = calibration_path(family)
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_text("{}")  # whatever an earlier version left: never read
    fresh = load_families(["optimize_kernel"])[0]
    assert fresh.active_normalization() == fresh.normalization
