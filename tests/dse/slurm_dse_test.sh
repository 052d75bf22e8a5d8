#!/usr/bin/env bash
# ctest dse.slurm (label slurm): brings up a private single-node Slurm cluster (scripts/slurm_local.sh),
# runs a sweep as a 3-shard job array with a dependent merge job (scripts/dse_slurm.sh) and checks that the
# merged report equals the same sweep run unsharded in one process (wall times aside). Exits 77 (skipped)
# when Slurm cannot start here, after saying why.
#   slurm_dse_test.sh VTA_BINARY SOURCE_DIR TARGET
set -euo pipefail
vta=$1
src=$2
target=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/vta-slurm-test.XXXXXX")
cleanup() {
  bash "$src/scripts/slurm_local.sh" stop "$work/cluster" || true
  rm -rf "$work"
}
trap cleanup EXIT

set +e
env_line=$(bash "$src/scripts/slurm_local.sh" start "$work/cluster")
status=$?
set -e
[[ $status == 0 ]] || exit "$status"
eval "$env_line"

sweep=(--target "$target" --sweep LOG_BATCH=0,1 --sweep timing.dram_bytes_per_cycle=8,16 --sweep LOG_BLOCK=3,4
       --layers C11 --budget xczu3eg)
"$vta" dse "${sweep[@]}" --quiet -o "$work/whole" >/dev/null
timeout 300 bash "$src/scripts/dse_slurm.sh" --shards 3 --wait --vta "$vta" "$work/sharded" -- "${sweep[@]}"
for i in 0 1 2; do
  [[ -f "$work/sharded/shard_$i/dse.json" ]] || { echo "shard $i wrote no report"; cat "$work"/sharded/slurm-*.log; exit 1; }
done
/usr/bin/python3 - "$work/whole/dse.json" "$work/sharded/dse.json" <<'PY'
import json, sys
def comparable(path):
    j = json.load(open(path))
    for k in ("wall_seconds", "shard"):
        j.pop(k)
    for p in j["points"]:
        p.pop("wall_seconds")
    return j
a, b = comparable(sys.argv[1]), comparable(sys.argv[2])
if a != b:
    sys.exit(f"the merged Slurm sweep differs from the unsharded one:\n{json.dumps(a)[:2000]}\n{json.dumps(b)[:2000]}")
ok = sum(p["status"] == "ok" for p in a["points"])
print(f"dse.slurm: {len(a['points'])} points ({ok} ran) merged from 3 Slurm array tasks equal the unsharded sweep")
PY
