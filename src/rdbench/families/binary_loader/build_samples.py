"""Write workspace/samples/<task>.xrec and <task>.json (run once; shipped; a test checks)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    spec = importlib.util.spec_from_file_location(
        "rdbench_family_binary_loader", HERE / "family.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    for variant in module.BinaryLoader.specs:
        data, expected = module.build_file(variant.name, dict(variant.params), "sample")
        (HERE / "workspace" / "samples" / f"{variant.name}.xrec").write_bytes(data)
        text = json.dumps(expected, indent=1, ensure_ascii=False) + "\n"
        (HERE / "workspace" / "samples" / f"{variant.name}.json").write_text(text)


if __name__ == "__main__":
    main()
