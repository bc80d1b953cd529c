#!/usr/bin/env bash
# Reproduces the Engram figures in docs/ENGRAM.md with `engram compare` (one run at a time, so that wall times
# mean something on a 2-core machine). Each block can be run on its own:
#   bash scripts/engram-results.sh [class-task-free|class-boundaries|task|domain|permuted|ablation|all] [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
out=${2:-docs/results/engram}
engram() { node dist/cli/main.js "$@"; }
if [[ $what == class-task-free || $what == all ]]; then
  engram compare --protocol split-mnist --scenario class --stream task-free --seeds 1,2,3 --resume \
    --out-dir "$out/split-class-task-free" --methods engram
fi
if [[ $what == class-boundaries || $what == all ]]; then
  engram compare --protocol split-mnist --scenario class --stream boundaries --seeds 1,2,3 --resume \
    --out-dir "$out/split-class-boundaries" --methods engram
fi
if [[ $what == task || $what == all ]]; then
  engram compare --protocol split-mnist --scenario task --stream task-free --seeds 1,2,3 --resume \
    --out-dir "$out/split-task-task-free" --methods engram
fi
if [[ $what == domain || $what == all ]]; then
  engram compare --protocol split-mnist --scenario domain --stream task-free --seeds 1,2,3 --resume \
    --out-dir "$out/split-domain-task-free" --methods engram
fi
if [[ $what == permuted || $what == all ]]; then
  engram compare --protocol permuted-mnist --scenario domain --stream task-free --seeds 1 --resume \
    --out-dir "$out/permuted-task-free" --methods engram
fi
if [[ $what == ablation || $what == all ]]; then
  # One mechanism off at a time, 2 seeds, class-IL task-free Split MNIST.
  for off in viscosity=0 metaplastic=0 projection=false dreams=false serve=slow; do
    engram compare --protocol split-mnist --scenario class --stream task-free --seeds 1,2 --resume \
      --out-dir "$out/ablation/${off//=/-}" --methods engram --set "$off"
  done
fi
