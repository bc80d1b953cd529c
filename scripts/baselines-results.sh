#!/usr/bin/env bash
# Reproduces the issue-3 baseline figures in docs/RESULTS.md with `engram compare` (one run at a time, so that
# wall times mean something on a 2-core machine). Each block can be run on its own:
#   bash scripts/baselines-results.sh [split-class|split-domain|permuted|gpm|all] [OUTDIR]
# The er / ewc / si / mas figures came earlier from scripts/grid.sh (see docs/RESULTS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
out=${2:-docs/results/baselines}
engram() { node dist/cli/main.js "$@"; }
if [[ $what == split-class || $what == all ]]; then
  engram compare --protocol split-mnist --scenario class --seeds 1,2,3 --resume --out-dir "$out/split-class" \
    --methods dgr-distill,bi-r,gen-classifier,lwf,agem
fi
if [[ $what == split-domain || $what == all ]]; then
  engram compare --protocol split-mnist --scenario domain --seeds 1,2,3 --resume --out-dir "$out/split-domain" \
    --methods dgr-distill
fi
if [[ $what == permuted || $what == all ]]; then
  engram compare --protocol permuted-mnist --scenario domain --seeds 1 --resume --out-dir "$out/permuted-domain" \
    --methods si,ewc
fi
if [[ $what == gpm || $what == all ]]; then
  # --method gpm on permuted MNIST runs the GPM paper's protocol (src/harness/presets.ts).
  engram compare --protocol permuted-mnist --scenario domain --seeds 1 --resume --out-dir "$out/permuted-gpm" \
    --methods gpm
fi
