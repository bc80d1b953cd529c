#!/usr/bin/env bash
# Reproduces the foundation figures in docs/RESULTS.md: naive and joint on Split MNIST (default protocol),
# seeds 1-3, then prints mean ± sd. Usage: bash scripts/foundation-results.sh [OUTDIR]   (~10 min on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
exec bash scripts/grid.sh "${1:-results/foundation}" "1 2 3" naive:class naive:task naive:domain joint:class
