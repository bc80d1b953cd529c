#!/usr/bin/env bash
# Reproduces the foundation figures in docs/RESULTS.md: naive and joint on Split MNIST (default protocol),
# seeds 1-3, then prints mean ± sd. Usage: bash scripts/foundation-results.sh [OUTDIR]   (~10 min on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-results/foundation}
mkdir -p "$out"
for seed in 1 2 3; do
  for run in "naive class" "naive task" "naive domain" "joint class"; do
    set -- $run
    node dist/cli/main.js run --protocol split-mnist --scenario "$2" --method "$1" --seed "$seed" \
      --out "$out/split-mnist-$2-$1-s$seed.json" --no-progress > /dev/null
  done
done
node scripts/summarise-results.mjs "$out"/*.json
