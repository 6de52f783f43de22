"""XREC reader: `python loader.py INPUT.xrec OUTPUT.json`. Not written yet."""

import json
import sys

if __name__ == "__main__":
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    result = {}  # TODO: decode `data` (see the instructions)
    with open(sys.argv[2], "w") as f:
        json.dump(result, f)
