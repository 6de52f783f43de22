"""Replay what a baseliner did: the terminal sessions recorded into a baseline's log.

Every login is recorded by `script` (util-linux) as three files — `.input` (keystrokes),
`.output` (the screen), `.timing` (when each chunk arrived) — which the human agent
stores in the sample's store (`HumanAgentState:logs`). `extract_sessions` writes them
back out; replay one with

    scriptreplay --log-timing NAME.timing --log-out NAME.output [--divisor 10]

Command line: `python -m rdbench.humans.sessions LOG DEST`.
"""

from __future__ import annotations

import sys
from pathlib import Path

SESSIONS_KEY = "HumanAgentState:logs"
SUFFIXES = (".input", ".output", ".timing")


def extract_sessions(log_file: str | Path, dest: str | Path) -> list[Path]:
    """Write the recorded sessions of every sample in `log_file` under `dest`.

    Files go to `dest/<sample id with / as ->-<epoch>/<recorded name>`.

    Returns:
        The `.output` files written, one per recorded login, in order.

    Raises:
        RecordsError: the log cannot be read, or holds no recorded session.
    """
    from inspect_ai.log import read_eval_log

    from rdbench.errors import RecordsError

    try:
        log = read_eval_log(str(log_file))
    except Exception as ex:  # zip/zstd/JSON errors all mean "cannot read"
        raise RecordsError(
            f"{log_file}: cannot read Inspect log ({type(ex).__name__}: {ex})"
        ) from None
    outputs: list[Path] = []
    for sample in log.samples or []:
        sessions = (sample.store or {}).get(SESSIONS_KEY) or {}
        folder = Path(dest) / f"{str(sample.id).replace('/', '-')}-{sample.epoch}"
        for name, content in sorted(sessions.items()):
            # names come from the sandbox: keep only a plain file name
            safe = Path(name).name
            if not safe.endswith(SUFFIXES) or safe in ("", ".", ".."):
                continue
            folder.mkdir(parents=True, exist_ok=True)
            (folder / safe).write_text(content)
            if safe.endswith(".output"):
                outputs.append(folder / safe)
    if not outputs:
        raise RecordsError(f"{log_file}: no recorded terminal session (not a human baseline log?)")
    return outputs


def main(argv: list[str] | None = None) -> int:
    """`python -m rdbench.humans.sessions LOG DEST`: extract, then print how to replay."""
    from rdbench.errors import UserError

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m rdbench.humans.sessions LOG DEST", file=sys.stderr)
        return 2
    try:
        outputs = extract_sessions(args[0], args[1])
    except UserError as ex:
        print(f"rdbench: error: {ex}", file=sys.stderr)
        return 2
    for output in outputs:
        timing = output.with_suffix(".timing")
        print(f"scriptreplay --log-timing {timing} --log-out {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
