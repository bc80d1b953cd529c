#!/usr/bin/env bash
# Reproduces the Engram figures of docs/ENGRAM.md with `engram compare --resume` (one run at a time, so that
# wall times mean something on a 2-core machine; an interrupted block continues where it stopped when run again).
#   bash scripts/engram-results.sh BLOCK [OUTDIR]
# Blocks:
#   mnist       Split MNIST: class-IL task-free and boundaries, task-IL, domain-IL (seeds 1-5), three random class orders
#   fashion     Split Fashion-MNIST class-IL, order 7,2,9,0,4,1,8,3,6,5 and two random orders, task-free and
#               boundaries, seeds 1-3, with gen-classifier and joint beside it
#   permuted    Permuted MNIST, domain-IL, task-free (seeds 1, 2)
#   ablation    each option switched off or moved, class-IL task-free, MNIST and Fashion-MNIST, seeds 1, 2
#   robustness  MNIST and Fashion-MNIST x {default, three random orders, fuzziness 100 and 1500, iters 1000 and 4000}, every method, seed 1
#   timing      naive and engram, class-IL task-free Split MNIST, seed 1, one after the other on this machine
# FASHION_DIR points at Fashion-MNIST's IDX files (Debian: apt-get install dataset-fashion-mnist).
# DATA_SETS limits the robustness block to some data sets ("mnist", "fashion"; default both): two processes,
# one per data set, use both cores of a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:?usage: engram-results.sh mnist|fashion|permuted|ablation|robustness|timing [OUTDIR]}
out=${2:-docs/results/engram}
FASHION_DIR=${FASHION_DIR:-/usr/share/datasets/fashion-mnist}
FASHION=(--data-dir "$FASHION_DIR")
FASHION_ORDER=(--class-order 7,2,9,0,4,1,8,3,6,5)
engram() { node dist/cli/main.js "$@"; }
C=(engram compare --protocol split-mnist --resume --threads 1)

case $what in
mnist)
  "${C[@]}" --methods engram --scenario class --stream task-free --seeds 1,2,3,4,5 --out-dir "$out/mnist-class-task-free"
  "${C[@]}" --methods engram --scenario class --stream boundaries --seeds 1,2,3,4,5 --out-dir "$out/mnist-class-boundaries"
  "${C[@]}" --methods engram --scenario task --stream task-free --seeds 1,2,3,4,5 --out-dir "$out/mnist-task-task-free"
  "${C[@]}" --methods engram --scenario domain --stream task-free --seeds 1,2,3,4,5 --out-dir "$out/mnist-domain-task-free"
  # --class-order random draws the order from the seed: seeds 1-3 are three orders.
  "${C[@]}" --methods engram --scenario class --stream task-free --seeds 1,2,3 --class-order random --out-dir "$out/mnist-class-task-free-random-orders"
  ;;
fashion)
  for stream in task-free boundaries; do
    "${C[@]}" --methods engram,gen-classifier,slda,joint --scenario class --stream $stream --seeds 1,2,3 "${FASHION[@]}" "${FASHION_ORDER[@]}" \
      --out-dir "$out/fashion-class-$stream"
    "${C[@]}" --methods engram --scenario class --stream $stream --seeds 1,2 --class-order random "${FASHION[@]}" \
      --out-dir "$out/fashion-class-$stream-random-orders"
  done
  ;;
permuted)
  engram compare --protocol permuted-mnist --resume --threads 1 --methods engram --stream task-free --seeds 1,2 \
    --out-dir "$out/permuted-domain-task-free"
  ;;
ablation)
  # One option changed at a time against the defaults (the defaults' own runs are the first row): each switch
  # off, and each numeric option moved by about a factor of two either way where no value means "off"
  # (quietRate=0: no sleep is ever quiet, so no dreamer is frozen and θ_S dreams at every sleep).
  for set in "" lda=false dreams=false dreamFeatures=0 sleepPressure=0 quietRate=0 admitRate=0 \
    stmCapacity=250 stmCapacity=1000 admitNll=0.05 admitNll=0.2 sleepEpochs=2.5 sleepEpochs=4.5 lr=5e-4 lr=2e-3 \
    episodeRate=0.025 episodeRate=0.1; do
    name=${set:-defaults}
    args=()
    [[ -n $set ]] && args=(--set "$set")
    "${C[@]}" --methods engram --scenario class --stream task-free --seeds 1,2 "${args[@]}" --out-dir "$out/ablation/mnist-$name"
    "${C[@]}" --methods engram --scenario class --stream task-free --seeds 1,2 "${args[@]}" "${FASHION[@]}" "${FASHION_ORDER[@]}" \
      --out-dir "$out/ablation/fashion-$name"
  done
  ;;
robustness)
  methods=naive,joint,er,agem,lwf,ewc,ewc-online,si,mas,dgr,dgr-distill,bi-r,gen-classifier,slda,engram
  for data in ${DATA_SETS:-mnist fashion}; do
    D=()
    [[ $data == fashion ]] && D=("${FASHION[@]}")
    R=("${C[@]}" --methods $methods --scenario class --stream task-free --seeds 1 "${D[@]}")
    "${R[@]}" --out-dir "$out/robustness/$data-default"
    for order in 1 2 3; do
      "${C[@]}" --methods $methods --scenario class --stream task-free --seeds $order --class-order random "${D[@]}" \
        --out-dir "$out/robustness/$data-random-order"
    done
    "${R[@]}" --fuzziness 100 --out-dir "$out/robustness/$data-fuzziness-100"
    "${R[@]}" --fuzziness 1500 --iters 4000 --out-dir "$out/robustness/$data-fuzziness-1500"
    "${R[@]}" --iters 1000 --out-dir "$out/robustness/$data-iters-1000"
    "${R[@]}" --iters 4000 --out-dir "$out/robustness/$data-iters-4000"
  done
  ;;
timing)
  # Both threads, one run after the other: the issue's time budget is engram within 2.5x naive on this stream.
  mkdir -p "$out/timing"
  engram run --protocol split-mnist --scenario class --stream task-free --method naive --seed 1 --no-progress --out "$out/timing/naive-s1.json"
  engram run --protocol split-mnist --scenario class --stream task-free --method engram --seed 1 --no-progress --out "$out/timing/engram-s1.json"
  node -e "const [a,b]=process.argv.slice(1).map(f=>require(require('path').resolve(f)));console.log('engram/naive wall time: '+(b.wallSeconds/a.wallSeconds).toFixed(2)+' ('+b.wallSeconds.toFixed(1)+' s / '+a.wallSeconds.toFixed(1)+' s)')" \
    "$out/timing/naive-s1.json" "$out/timing/engram-s1.json"
  ;;
*)
  echo "unknown block $what" >&2
  exit 2
  ;;
esac
