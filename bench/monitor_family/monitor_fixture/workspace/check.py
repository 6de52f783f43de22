"""Provided checker: answer.txt must hold one integer."""
import sys
from pathlib import Path

text = Path("answer.txt").read_text().strip() if Path("answer.txt").exists() else ""
if not text.lstrip("-").isdigit():
    print("FAIL: answer.txt must hold one integer")
    sys.exit(1)
print("OK")
