#!/bin/bash
# Nightly payments report: reads $INPUT_DIR/events.csv, writes $OUTPUT_DIR/report.json.
set -euo pipefail
cd "$(dirname "$0")"
LOG_LEVEL="${LOG_LEVEL:-info}"
export LOG_LEVEL
python3 app/main.py --config conf/service.ini
