"""Rebuild `kjv.txt.gz` from the Debian package `bible-kjv` (public-domain KJV text).

Usage: python src/rdbench/tasks/data/make_kjv.py   (needs `apt-get install bible-kjv`)

The `bible` command prints every chapter as a "Book N" header line followed by verse lines
"  <n> <text>". This keeps the chapter headers (as "## Book N") and the verse text without
verse numbers, one verse per line, a blank line between chapters. The gzip header carries
no timestamp, so the same package version always gives the same bytes.
"""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).with_name("kjv.txt.gz")
_VERSE = re.compile(r"^\s+(\d+) (.*)$")


def kjv_from_bible_command() -> str:
    """Return the corpus text built from the `bible` command's output.

    Raises:
        FileNotFoundError: the `bible` command (package bible-kjv) is not installed.
        ValueError: the output does not have the expected shape.
    """
    raw = subprocess.run(
        ["bible", "-l0", "gen1:1-rev22:21"], capture_output=True, text=True, check=True
    ).stdout
    chapters: list[str] = []
    lines: list[str] = []
    for line in raw.splitlines():
        if not line.strip():
            continue
        match = _VERSE.match(line)
        if match:
            if not lines:
                raise ValueError(f"verse before any chapter header: {line!r}")
            lines.append(match.group(2).strip())
        else:
            if lines:
                chapters.append("\n".join(lines))
            lines = [f"## {line.strip()}"]
    if lines:
        chapters.append("\n".join(lines))
    if len(chapters) != 1189:  # the KJV has 1,189 chapters
        raise ValueError(f"expected 1189 chapters, got {len(chapters)}")
    return "\n\n".join(chapters) + "\n"


def main() -> None:
    text = kjv_from_bible_command()
    OUT.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
    print(f"wrote {OUT} ({len(text):,} characters)", file=sys.stderr)


if __name__ == "__main__":
    main()
