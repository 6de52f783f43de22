"""optimize_kernel's scorer: correctness checks, isolation of hidden data, and calibration."""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import pytest

from rdbench.errors import InvalidSubmission
from rdbench.tasks import load_families, materialize, score_workspace


@pytest.fixture(scope="module")
def family():
    fam = load_families(["optimize_kernel"])[0]
    fam.prepare()
    return fam


@pytest.fixture
def reference_workspace(family, tmp_path) -> Path:
    return materialize(family, tmp_path / "ws", "reference")


@pytest.fixture
def few_rounds(family, monkeypatch):
    """At most twelve rounds per scoring (each about 50 ms for the reference): enough for
    tests that need a valid score, not precision."""
    module = sys.modules[type(family).__module__]  # the loader's module, not a second import

    monkeypatch.setattr(module, "MIN_ROUNDS", 3)
    monkeypatch.setattr(module, "MAX_ROUNDS", 12)


def _score_timed(family, workspace: Path, tries: int = 3):
    """Score a solution that should get a score; a machine too busy to time anything three
    times in a row skips the test (timing_unreliable is tested on its own below)."""
    for _ in range(tries):
        result = score_workspace(family, family.variants()[0], workspace)
        if result.timing_unreliable is None:
            return result
    pytest.skip(f"this machine is too busy to time the scorer: {result.timing_unreliable}")


def _write_solution(workspace: Path, body: str) -> None:
    (workspace / "solution.py").write_text("import numpy as np\n" + body)


def test_hidden_files_never_reach_the_workspace(family, tmp_path):
    workspace = materialize(family, tmp_path / "ws", "starting")
    names = {p.name for p in workspace.rglob("*")}
    assert "params.json" not in names and "expected.npy" not in names
    assert {"solution.py", "check.py"} <= names


def test_reference_is_valid_near_one_and_the_log_keeps_ratio_and_seconds(
    family, reference_workspace
):
    result = _score_timed(family, reference_workspace)
    assert result.valid, result.message
    assert result.normalized == pytest.approx(1.0, abs=0.25)  # loose: shared CI machines
    details = result.details
    module = sys.modules[type(family).__module__]
    rounds = len(details["solution_s"])
    assert rounds >= 3 and all(len(details[key]) == rounds for key in (
        "yardstick_pass_s", "start_yardstick_s", "round_scores", "round_ratios",
        "round_start_ratios"))
    # the score is the rounds' median, and the raw score its ratio on the shipped scale
    assert result.normalized == pytest.approx(statistics.median(details["round_scores"]),
                                              abs=1e-3)
    assert result.raw == pytest.approx(family.normalization.start ** (1 - result.normalized),
                                       rel=1e-3)
    assert details["start_ratio"] > module.MIN_START_RATIO
    assert 0 <= details["score_se"] <= module.MAX_SCORE_SE and "load_1min" in details


def test_a_round_is_scored_between_its_own_start_and_reference(family):
    """A round whose solution took as long as the start would have scores 0 whatever the
    machine's start ratio; one as fast as the yardstick scores 1; half-way on the log
    scale scores 0.5."""
    module = sys.modules[type(family).__module__]
    n = 1000
    for start_ratio in (30.0, 45.0):
        per_element = [start_ratio * 0.01 / n]  # the start's time per element
        assert module._round_scores([start_ratio * 0.01], [0.01], per_element, n)[0] == (
            pytest.approx(0.0))
        assert module._round_scores([0.01], [0.01], per_element, n)[0] == pytest.approx(1.0)
        assert module._round_scores([start_ratio ** 0.5 * 0.01], [0.01], per_element, n)[0] == (
            pytest.approx(0.5))


def test_a_textbook_cumsum_is_wrong(family, reference_workspace):
    _write_solution(reference_workspace, "def scan(x, gates, decay):\n    return np.cumsum(x)\n")
    result = score_workspace(family, family.variants()[0], reference_workspace)
    assert not result.valid
    assert "wrong output" in result.message
    assert "expected" not in result.message  # no hidden values in the message


def test_missing_solution_is_invalid(family, tmp_path):
    (tmp_path / "ws").mkdir()
    with pytest.raises(InvalidSubmission, match="solution.py is missing"):
        family.score(tmp_path / "ws", family.variants()[0])


def test_crash_on_import_is_invalid_without_echoing_its_error(family, reference_workspace):
    _write_solution(reference_workspace, "raise RuntimeError('kaboom ' + open('/proc/self/mountinfo').read())\n")
    result = score_workspace(family, family.variants()[0], reference_workspace)
    assert not result.valid
    assert "importing solution.py" in result.message and "check.py" in result.message
    # the solution's stderr (here: the jail's mount table, with host paths) is never shown
    assert "kaboom" not in result.message and "/tmp" not in result.message


def test_prints_from_the_solution_do_not_break_the_protocol(family, reference_workspace, few_rounds):
    source = (reference_workspace / "solution.py").read_text()
    (reference_workspace / "solution.py").write_text(
        source.replace('    """Return y', '    print("ready done saved")\n    """Return y', 1)
    )
    result = _score_timed(family, reference_workspace)
    assert result.valid, result.message


def test_the_solution_cannot_read_hidden_files(family, reference_workspace, few_rounds):
    hidden = [family.hidden_dir / "params.json", family._lib_path(), family.cache_dir]
    _write_solution(
        reference_workspace,
        "import os\n"
        f"assert not any(os.path.exists(p) for p in {[str(p) for p in hidden]!r})\n"
        "assert os.listdir('/rdbench/in') == []  # no input before the timed window\n"
        "from pathlib import Path\n"
        "exec(Path('solution_ref.py').read_text())\n",
    )
    shutil.copy(family.reference_dir / "solution.py", reference_workspace / "solution_ref.py")
    text = (reference_workspace / "solution_ref.py").read_text()
    (reference_workspace / "solution_ref.py").write_text(
        text.replace("_HERE = os.path.dirname(os.path.abspath(__file__))", "_HERE = os.getcwd()")
    )
    result = _score_timed(family, reference_workspace)
    assert result.valid, result.message


def test_the_solution_sees_a_read_only_workspace(family, reference_workspace):
    _write_solution(
        reference_workspace,
        "open('cheat.txt', 'w').write('x')\n"
        "def scan(x, gates, decay):\n    return x\n",
    )
    result = score_workspace(family, family.variants()[0], reference_workspace)
    assert not result.valid
    assert "importing solution.py" in result.message


def test_unreliable_yardstick_is_reported_not_scored(
    family, reference_workspace, monkeypatch, few_rounds
):
    module = sys.modules[type(family).__module__]
    monkeypatch.setattr(module, "MAX_SCORE_SE", -1.0)  # any disagreement is too much
    result = score_workspace(family, family.variants()[0], reference_workspace)
    assert not result.valid and result.normalized is None
    assert result.timing_unreliable.startswith("timing unreliable: ")
    assert "disagree" in result.timing_unreliable or "overloaded" in result.timing_unreliable
    assert "try again" in result.message
    monkeypatch.setattr(module, "MAX_SCORE_SE", 10.0)
    monkeypatch.setattr(module, "MAX_LOAD_PER_CORE", 0.0)  # any load is too much
    result = score_workspace(family, family.variants()[0], reference_workspace)
    assert not result.valid
    assert result.timing_unreliable.startswith("timing unreliable: machine overloaded (load ")


# -- what an agent might try (issue 20): each reproduced through the scorer ---------------------
# Each of these scored as valid, most above the reference, on the scorer before the yardstick.
_HOST_PATH_OF = """
def _host_path_of(inside):
    for line in open('/proc/self/mountinfo'):
        fields = line.split()
        if fields[4] == inside:
            return fields[3]
    return None
"""


def test_an_output_symlink_to_host_files_is_refused(family, reference_workspace):
    """The solution replaces its output with a link to where the host keeps the expected
    results (found in /proc/self/mountinfo) and never writes a result itself."""
    _write_solution(reference_workspace, _HOST_PATH_OF + """
import builtins, os
_open = builtins.open
def _link_instead(path, mode='r', *args, **kwargs):
    path = str(path)
    if path.startswith('/rdbench/out/') and 'w' in mode:
        os.symlink('/proc/self/root/etc/hostname', path)
        return _open(os.devnull, mode)
    return _open(path, mode, *args, **kwargs)
builtins.open = _link_instead
data = _host_path_of('/rdbench/data')
if data is not None:  # the scorer before the yardstick: np.save to a link to expected.npy
    np.save = lambda path, value: os.symlink(data + '/../expected.npy', path)
def scan(x, gates, decay):
    return x
""")
    result = score_workspace(family, family.variants()[0], reference_workspace)
    assert not result.valid
    assert "not a regular file" in result.message


def test_precomputing_at_import_time_gains_nothing(family, reference_workspace):
    """The solution computes the scan of the hidden input at import (untimed) from the
    runner's globals or the input files, and `scan` returns the cached array."""
    _write_solution(reference_workspace, """
import __main__, glob, os
_cache = None
_x, _g = getattr(__main__, 'x', None), getattr(__main__, 'gates', None)
if _x is None:
    files = glob.glob('/rdbench/data/x.npy') + glob.glob('/rdbench/in/*')
    if files:
        _x = np.load(files[0])
if _x is not None:
    _g = _g if _g is not None else np.load('/rdbench/data/gates.npy')
    _cache = np.empty(len(_x)); s = 0.0
    for i, (v, g) in enumerate(zip(_x.tolist(), _g.tolist())):
        s = 0.9731 * s + v if g == 0 else (max(s, v) if g == 1 else v)
        _cache[i] = s
def scan(x, gates, decay):
    return _cache if _cache is not None and len(x) == len(_cache) else np.zeros(len(x))
""")
    result = score_workspace(family, family.variants()[0], reference_workspace)
    assert not result.valid
    assert "wrong output" in result.message


def test_remembering_an_earlier_run_gains_nothing(family, reference_workspace):
    """The first timed call computes; later calls return the first result (the median is
    then the time of a lookup)."""
    source = (family.reference_dir / "solution.py").read_text()
    (reference_workspace / "solution.py").write_text(source + """
_scan, _memo = scan, {}
def scan(x, gates, decay):
    if len(x) < 100000:
        return _scan(x, gates, decay)
    if 'y' not in _memo:
        _memo['y'] = _scan(x, gates, decay)
    return _memo['y']
""")
    result = score_workspace(family, family.variants()[0], reference_workspace)
    assert not result.valid
    assert "wrong output" in result.message


def test_saying_done_early_through_the_protocol_pipe_gains_nothing(family, reference_workspace):
    """The solution takes over the runner's protocol pipe (`__main__.proto`): it swallows
    the runner's own replies and says "done" as soon as a timed call starts."""
    source = (family.reference_dir / "solution.py").read_text()
    (reference_workspace / "solution.py").write_text(source + """
import __main__
_real = __main__.proto
class _Quiet:
    def write(self, text):
        if text != 'done\\n':
            _real.write(text)
__main__.proto = _Quiet()
_scan = scan
def scan(x, gates, decay):
    if len(x) >= 100000:
        _real.write('done\\n')
    return _scan(x, gates, decay)
""")
    result = score_workspace(family, family.variants()[0], reference_workspace)
    assert not result.valid, result.message
    assert "was not written" in result.message


def test_slowing_the_yardstick_down_gains_nothing(family, reference_workspace):
    """The reference with three processes that burn CPU whenever scan is *not* running,
    to slow the yardstick down and so lower the ratio: the solution is frozen meanwhile."""
    source = (family.reference_dir / "solution.py").read_text()
    (reference_workspace / "solution.py").write_text(source + """
import mmap, time
_flag = mmap.mmap(-1, 1)
for _ in range(3):
    if os.fork() == 0:
        while True:
            if _flag[0] == 0:
                sum(range(20000))
            else:
                time.sleep(0.0002)
_scan = scan
def scan(x, gates, decay):
    _flag[0] = 1
    try:
        return _scan(x, gates, decay)
    finally:
        _flag[0] = 0
""")
    honest = _score_timed(family, materialize(
        family, reference_workspace.parent / "honest", "reference"))
    result = _score_timed(family, reference_workspace)
    assert result.valid and honest.valid, result.message + honest.message
    assert result.normalized < honest.normalized + 0.1


@pytest.mark.slow
def test_starting_and_reference_calibration(family):
    """`rdbench check` criteria on the shipped ratio anchors: start 0 +/- 0.05, reference
    1 +/- 0.05."""
    for solution, expected in (("starting", 0.0), ("reference", 1.0)):
        workspace = materialize(family, Path(tempfile.mkdtemp()) / "ws", solution)
        try:
            result = _score_timed(family, workspace)
        finally:
            shutil.rmtree(workspace.parent, ignore_errors=True)
        assert result.valid, result.message
        assert result.normalized == pytest.approx(expected, abs=0.05), result.details
