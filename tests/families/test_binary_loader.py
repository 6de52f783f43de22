"""binary_loader: start fails, reference passes, a sample-replaying or CRC-blind loader fails,
the block codec round-trips, and hacks do not reach the scorer."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import random

import pytest

from rdbench.tasks import load_families, materialize, score_solution, score_workspace

CANARY = "CANARY-xrec-90d1"


@pytest.fixture(scope="module")
def family():
    return load_families(["binary_loader"])[0]


@pytest.fixture(scope="module")
def module(family):
    return importlib.import_module(type(family).__module__)


@pytest.fixture(scope="module")
def variants(family):
    return {v.name: v for v in family.variants()}


@pytest.fixture(scope="module")
def reference_loader(family):
    spec = importlib.util.spec_from_file_location(
        "xrec_ref_loader", family.reference_dir / "loader.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_start_fails_and_reference_passes_on_every_task(family):
    for variant in family.variants():
        assert score_solution(family, variant, "starting").normalized == 0.0
        ref = score_solution(family, variant, "reference")
        assert ref.normalized == 1.0, ref.message


def test_samples_are_seeded_and_decoded_by_the_reference(family, module, reference_loader):
    for spec in type(family).specs:
        data, expected = module.build_file(spec.name, dict(spec.params), "sample")
        samples = family.workspace_dir / "samples"
        assert (samples / f"{spec.name}.xrec").read_bytes() == data
        assert json.loads((samples / f"{spec.name}.json").read_text()) == json.loads(
            json.dumps(expected)
        )
        assert json.loads(json.dumps(reference_loader.load(data))) == json.loads(
            json.dumps(expected)
        )
        test_data, _ = module.build_file(spec.name, dict(spec.params), "test")
        assert test_data != data


def test_block_codec_round_trips(module, reference_loader):
    fmt = module._fmt()
    rnd = random.Random(7)
    cases = [b"", b"a", b"abcd" * 300, bytes(rnd.randrange(256) for _ in range(5000)), b"x" * 70000]
    cases.append(b"".join(rnd.choice([b"alpha", b"beta", b"\x00\x01"]) for _ in range(3000)))
    for raw in cases:
        assert reference_loader.lz_decompress(fmt.lz_compress(raw), len(raw)) == raw
    assert len(fmt.lz_compress(b"abcd" * 300)) < 100


def test_a_sample_replaying_or_crc_blind_loader_fails(family, variants, tmp_path):
    ws = materialize(family, tmp_path / "replay", "starting")
    (ws / "loader.py").write_text(
        "import shutil, sys\nshutil.copy('samples/varlen.json', sys.argv[2])\n"
    )
    result = score_workspace(family, variants["varlen"], ws)
    assert result.valid and result.normalized == 0.0
    ws = materialize(family, tmp_path / "blind", "reference")
    text = (ws / "loader.py").read_text()
    assert text.count("\n            if ok:\n") == 1
    (ws / "loader.py").write_text(
        text.replace("\n            if ok:\n", "\n            if True:\n")
    )
    result = score_workspace(family, variants["varlen"], ws)
    assert result.valid and result.normalized == 0.0


def test_stderr_and_symlinked_output_do_not_reach_the_scorer(family, variants, tmp_path):
    ws = materialize(family, tmp_path / "crash", "starting")
    (ws / "loader.py").write_text(f"import sys\nprint('{CANARY}')\nsys.exit('{CANARY}')\n")
    result = score_workspace(family, variants["header"], ws)
    assert not result.valid and CANARY not in result.message
    host = tmp_path / "host.json"
    host.write_text(json.dumps({"magic": CANARY}))
    ws = materialize(family, tmp_path / "link", "starting")
    (ws / "loader.py").write_text(f"import os, sys\nos.symlink({str(host)!r}, sys.argv[2])\n")
    result = score_workspace(family, variants["header"], ws)
    # the jail drops links from what it hands back (a link that got through would be
    # refused as a symlink): either way the host file is never read
    assert not result.valid and CANARY not in result.message
    assert "symlink" in result.message or "was not written" in result.message, result.message
    assert os.path.exists(host)
