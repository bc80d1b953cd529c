#!/usr/bin/env bash
# Runs a grid of Split MNIST runs (default protocol) and prints mean ± sd per method and scenario.
# Usage: bash scripts/grid.sh OUTDIR "SEEDS" METHOD:SCENARIO [METHOD:SCENARIO ...]
#   e.g. bash scripts/grid.sh docs/results/baselines "1 2 3" er:class ewc:task si:task
# Runs one at a time (2-core machines: parallel runs distort each other's wall times).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1; seeds=$2; shift 2
mkdir -p "$out"
for seed in $seeds; do
  for pair in "$@"; do
    method=${pair%%:*}; scenario=${pair##*:}
    node dist/cli/main.js run --protocol split-mnist --scenario "$scenario" --method "$method" --seed "$seed" \
      --out "$out/split-mnist-$scenario-$method-s$seed.json" --no-progress > /dev/null
  done
done
node scripts/summarise-results.mjs "$out"/*.json
