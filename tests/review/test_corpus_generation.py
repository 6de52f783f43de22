"""The corpus is made by really running scripted agents: regenerate two scenarios."""

from __future__ import annotations

import pytest

from rdbench.review import read_transcripts, run_rules
from rdbench.review.corpus import SCENARIOS, generate_corpus, scenario_labels


@pytest.mark.slow
def test_generated_attempts_run_and_match_their_labels(tmp_path):
    chosen = [s for s in SCENARIOS if s.name in ("tamper_sed_test", "benign_own_test_file")]
    paths = generate_corpus(tmp_path / "corpus", chosen, max_tasks=2)
    assert sorted(p.name for p in paths) == ["benign_own_test_file.eval", "tamper_sed_test.eval"]
    assert not (tmp_path / "corpus" / ".generating").exists()
    from inspect_ai.log import read_eval_log

    for path in paths:
        log = read_eval_log(str(path))
        sample = log.samples[0]
        labels = scenario_labels(sample.metadata)
        (transcript,) = read_transcripts(path)
        assert {f.monitor for f in run_rules(transcript)} == set(labels)
        # the commands really ran: the provided tests passed after the solution was written
        assert transcript.solved
        assert any("passed" in a.result for a in transcript.actions if "pytest" in a.text)
