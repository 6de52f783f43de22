"""binary_loader: write a reader for XREC, an odd binary container, from its spec.

Graded by format version: the header alone (v1); fixed-size records with deleted flags and
24-bit integers (v2); variable-length records with varints, zigzag, delta columns and
per-record CRCs (v3); LZ-compressed blocks with junk between them, a footer index and
corrupt blocks (v4). Each task's magic, schema and byte order differ; the scored file is
generated from the task's seed on the host (`fmt.py`), handed to the solution's
`loader.py` in a one-shot jail, and the JSON it writes is compared with the file's true
contents on the host. Binary: every required key must match exactly.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from rdbench.errors import InvalidSubmission
from rdbench.families._common import (
    FamilyBase,
    VariantSpec,
    read_json_output,
    run_python,
    scratch_dirs,
)
from rdbench.tasks.contract import Resources, TaskVariant

HERE = Path(__file__).parent
RUN_TIMEOUT_S = 60.0
HEADER_KEYS = ("magic", "version", "big_endian", "fields", "record_count")


def _load_fmt() -> Any:
    """Import the family's `fmt.py` (the family folder is not a package)."""
    spec = importlib.util.spec_from_file_location(
        "rdbench_family_binary_loader_fmt", HERE / "fmt.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Loaded once, with the family: samples are scored concurrently in worker threads, which
# must never see a half-imported module.
_FMT = _load_fmt()


def _fmt() -> Any:
    return _FMT


def build_file(task: str, params: dict[str, Any], purpose: str) -> tuple[bytes, dict[str, Any]]:
    """Return (file bytes, expected JSON) of the task's file for `purpose` ("test" is scored,
    "sample" ships in the workspace)."""
    return _fmt().build(params, ("binary_loader", task, purpose))


class BinaryLoader(FamilyBase):
    name = "binary_loader"
    summary = "Write a reader for an odd binary container format (header ... compressed blocks)"
    resources = Resources(cores=2, memory_mb=2048, disk_mb=512)
    quick = True
    specs = (
        VariantSpec(
            "header",
            12,
            {
                "magic": "Hq9Z",
                "version": 1,
                "big_endian": True,
                "count": 500,
                "fields": [["sensor_id", "i32"], ["reading", "f64"], ["flags", "u16"]],
            },
        ),
        VariantSpec(
            "records",
            40,
            {
                "magic": "Rk4M",
                "version": 2,
                "big_endian": True,
                "count": 300,
                "deleted": 0.1,
                "fields": [
                    ["step", "i32"],
                    ["lr", "f64"],
                    ["shard", "u16"],
                    ["offset", "i24"],
                    ["loss", "f64"],
                ],
            },
        ),
        VariantSpec(
            "varlen",
            100,
            {
                "magic": "Vz2P",
                "version": 3,
                "big_endian": False,
                "count": 400,
                "bad_crc": 0.05,
                "fields": [
                    ["ts", "delta"],
                    ["tokens", "i32"],
                    ["source", "str"],
                    ["score", "f64"],
                    ["bucket", "u16"],
                ],
            },
        ),
        VariantSpec(
            "blocks",
            270,
            {
                "magic": "Bw8L",
                "version": 4,
                "big_endian": True,
                "count": 2000,
                "bad_crc": 0.02,
                "block_rows": 128,
                "bad_block": 0.15,
                "fields": [
                    ["t_ns", "delta"],
                    ["doc", "str"],
                    ["len", "i32"],
                    ["weight", "f64"],
                    ["lang", "u16"],
                    ["tag", "str"],
                ],
            },
        ),
    )

    def score_variant(self, workspace: Path, variant: TaskVariant, spec: VariantSpec) -> float:
        """Return 1.0 when loader.py decodes the task's hidden file exactly, else 0.0.

        Raises:
            InvalidSubmission: loader.py is missing, crashes or times out, or writes no
                JSON object.
        """
        data, expected = build_file(spec.name, dict(spec.params), "test")
        with scratch_dirs("rdbench-binary-loader-") as (inputs, outputs):
            (inputs / "data.xrec").write_bytes(data)
            run = run_python(
                workspace,
                "loader.py",
                ["/input/data.xrec", "/output/out.json"],
                timeout=RUN_TIMEOUT_S,
                input_dir=inputs,
                output_dir=outputs,
            )
            if not run.ok:
                raise InvalidSubmission(f"on the scored file, {run.message}")
            got = read_json_output(outputs, "out.json", max_bytes=16 << 20)
        if not isinstance(got, dict):
            raise InvalidSubmission("loader.py must write a JSON object")
        keys = HEADER_KEYS if spec.params["version"] == 1 else (*HEADER_KEYS, "columns", "skipped")
        return 1.0 if all(k in got and got[k] == expected[k] for k in keys) else 0.0
