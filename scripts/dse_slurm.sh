#!/usr/bin/env bash
# Runs a `vta dse` sweep on a Slurm cluster: a job array of N shards (sbatch --array=0-(N-1), shard I runs
# `vta dse ... --shard I/N -o OUT/shard_I`), then a merge job that starts when every shard succeeded
# (--dependency=afterok) and writes the merged OUT/dse.json, dse.csv and pareto.svg (docs/dse.md).
#   scripts/dse_slurm.sh [--shards N] [--vta PATH] [--wait] [--sbatch "OPTIONS"] OUT_DIR -- VTA_DSE_OPTIONS...
# e.g. scripts/dse_slurm.sh --shards 8 results/sweep1 -- --sweep LOG_BLOCK=4,5 --sweep LOG_BATCH=0,1 --budget xc7z020
# OUT_DIR must be on a file system every node sees. --wait blocks until the merge job ends and exits with
# its status. Prints the two job ids.
set -euo pipefail

shards=4
vta=""
wait_flag=()
extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --shards) shards=$2; shift 2 ;;
    --vta) vta=$2; shift 2 ;;
    --wait) wait_flag=(--wait); shift ;;
    --sbatch) read -r -a extra <<<"$2"; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) out=$1; shift ;;
  esac
done
[[ -n "${out:-}" ]] || { echo "dse_slurm: OUT_DIR missing (usage: $0 [--shards N] OUT_DIR -- VTA_DSE_OPTIONS...)" >&2; exit 2; }
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || { echo "dse_slurm: --shards must be a positive number" >&2; exit 2; }
if [[ -z "$vta" ]]; then
  vta=$(command -v vta || true)
  [[ -n "$vta" ]] || vta="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/tools/vta/vta"
fi
[[ -x "$vta" ]] || { echo "dse_slurm: no vta binary at $vta (build it, or pass --vta PATH)" >&2; exit 2; }
command -v sbatch >/dev/null || { echo "dse_slurm: sbatch not found: is this a Slurm cluster?" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
vta=$(cd "$(dirname "$vta")" && pwd)/$(basename "$vta")

# The sweep options, quoted for the job's shell.
opts=$(printf ' %q' "$@")
array=$(sbatch --parsable "${extra[@]}" --job-name=vta-dse --array="0-$((shards - 1))" \
  --output="$out/slurm-%A_%a.log" \
  --wrap="exec $(printf %q "$vta") dse$opts --quiet --shard \${SLURM_ARRAY_TASK_ID}/$shards -o $(printf %q "$out")/shard_\${SLURM_ARRAY_TASK_ID}")
array=${array%%;*}
inputs=""
for ((i = 0; i < shards; i++)); do inputs+=" $(printf %q "$out/shard_$i")"; done
merge=$(sbatch --parsable "${extra[@]}" "${wait_flag[@]}" --job-name=vta-dse-merge --dependency="afterok:$array" \
  --kill-on-invalid-dep=yes --output="$out/slurm-merge-%j.log" \
  --wrap="exec $(printf %q "$vta") dse merge$inputs -o $(printf %q "$out")")
echo "dse_slurm: shards job $array (${shards} tasks), merge job ${merge%%;*}; results in $out"
