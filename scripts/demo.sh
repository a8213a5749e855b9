#!/usr/bin/env bash
# One command for a new user on a fresh Debian machine: install and start what berth needs
# (as root), build berth, and run the bundled example pipeline with `berth exec`.
set -euo pipefail
cd "$(dirname "$0")/.."
# The example needs neither the runner image nor the test registries' images, only the engine and local images.
BERTH_SKIP_RUNNER_IMAGE=1 bash scripts/setup-test-env.sh
npm run build --silent
exec node dist/berth.mjs exec --cwd examples/demo "$@"
