#!/usr/bin/env bash
# One command for a new user on a fresh Debian machine: install and start what berth needs
# (as root), build berth, and run the bundled example pipeline with `berth exec`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-test-env.sh
npm run build --silent
exec node dist/berth.mjs exec --cwd examples/demo "$@"
