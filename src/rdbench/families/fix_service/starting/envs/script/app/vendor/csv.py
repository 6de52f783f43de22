"""Compatibility shim from the Python 2 days: only `reader` was ever needed here."""

import _csv

reader = _csv.reader
