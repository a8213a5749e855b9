#!/usr/bin/env bash
# The whole test suite: sets up what the tests need (as root), builds, runs unit, integration and e2e tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-test-env.sh
npm test
