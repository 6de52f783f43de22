"""Shared test set-up: offline, deterministic, and a private cache per session."""

from __future__ import annotations

import os
import tempfile

# Keep every test offline and away from the user's caches.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("INSPECT_DISPLAY", "none")
os.environ.setdefault("RDBENCH_CACHE", os.path.join(tempfile.gettempdir(), "rdbench-test-cache"))
