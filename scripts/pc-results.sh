#!/usr/bin/env bash
# Result files for docs/PREDICTIVE-CODING.md, resumable (compare --resume skips runs whose result exists).
#   parity   i.i.d. MNIST and Fashion-MNIST (--protocol iid: PCX's 784-128-128-128-10 GELU network), naive,
#            backprop and predictive coding, seeds 1-3, one thread per run, both engines at the default
#            learning rate (1e-3; the validation split, tuning seeds 101-103, chose it for both).
# Usage: scripts/pc-results.sh parity [OUTDIR]   (default docs/results/predictive-coding)
# FASHION_DIR points at Fashion-MNIST's IDX files (Debian: apt-get install dataset-fashion-mnist).
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:?usage: pc-results.sh parity [OUTDIR]}
out=${2:-docs/results/predictive-coding}
FASHION_DIR=${FASHION_DIR:-/usr/share/datasets/fashion-mnist}
C=(node dist/cli/main.js compare --protocol iid --resume --threads 1)

case $what in
parity)
  for data in mnist fashion; do
    D=()
    [[ $data == fashion ]] && D=(--data-dir "$FASHION_DIR")
    "${C[@]}" --methods naive --seeds 1,2,3 --engine bp "${D[@]}" --out-dir "$out/iid-$data-bp"
    "${C[@]}" --methods naive --seeds 1,2,3 --engine pc "${D[@]}" --out-dir "$out/iid-$data-pc"
  done
  ;;
*)
  echo "unknown block $what" >&2
  exit 2
  ;;
esac
