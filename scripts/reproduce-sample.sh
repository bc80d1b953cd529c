#!/usr/bin/env bash
# Re-runs a random sample of the result files under docs/results with `engram reproduce` and says which it
# chose and whether each accuracy matrix matched exactly.
#   bash scripts/reproduce-sample.sh [COUNT=3] [SEED=$RANDOM] [DIR=docs/results]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-3}
seed=${2:-$RANDOM}
dir=${3:-docs/results}
# Result files are the JSON files with an accuracy matrix (summaries and benchmarks are not).
mapfile -t files < <(grep -l '"accuracyMatrix"' -r "$dir" --include='*.json' | sort)
if [[ ${#files[@]} -eq 0 ]]; then
  echo "reproduce-sample: no result files under $dir" >&2
  exit 2
fi
echo "reproduce-sample: ${#files[@]} result files under $dir; sample of $count with seed $seed"
mapfile -t chosen < <(printf '%s\n' "${files[@]}" | awk -v seed="$seed" 'BEGIN { srand(seed) } { print rand() "\t" $0 }' | sort -k1,1 | head -n "$count" | cut -f2)
failed=0
for f in "${chosen[@]}"; do
  echo "== $f"
  if node dist/cli/main.js reproduce "$f"; then echo "   matches"; else echo "   DOES NOT MATCH"; failed=$((failed + 1)); fi
done
echo "reproduce-sample: $((${#chosen[@]} - failed)) of ${#chosen[@]} matched"
[[ $failed -eq 0 ]]
