"""Runs inside the jail: import the agent's metric module and evaluate it on each case.

stdin: one JSON object {"module": "<variant>/metric.py", "function": name, "cases": [...]}.
stdout (last line): a JSON list, per case the float the function returned or null.
The agent's prints go to stderr, so they cannot forge the result line's place.
"""

import importlib.util
import json
import math
import os
import sys


def main() -> None:
    request = json.loads(sys.stdin.read())
    result_fd = os.dup(1)
    os.dup2(2, 1)  # the solution's own prints go to stderr
    sys.path.insert(0, os.getcwd())
    spec = importlib.util.spec_from_file_location("metric", request["module"])
    module = importlib.util.module_from_spec(spec)
    values = []
    try:
        spec.loader.exec_module(module)
        function = getattr(module, request["function"])
    except Exception:  # noqa: BLE001 - any failure of the graded code counts against it
        function = None
    import numpy as np

    for case in request["cases"]:
        value = None
        if function is not None:
            try:
                args = {k: np.asarray(v) for k, v in case.items()}
                out = float(function(**args))
                value = out if math.isfinite(out) else None
            except Exception:  # noqa: BLE001 - any failure of the graded code counts against it
                value = None
        values.append(value)
    os.write(result_fd, (json.dumps(values) + "\n").encode())


main()
