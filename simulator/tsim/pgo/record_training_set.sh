#!/usr/bin/env bash
# Records tsim's PGO training set (simulator/tsim/pgo/training/, README.md there): a few operators compiled
# by this stack for the default config, at shapes that are not ResNet-18's (the benchmark), with seeded
# random int8 data, recorded on fsim as program traces. Usage: record_training_set.sh [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../../build}
vta=$build/tools/vta/vta
py=/usr/bin/python3
out=$here/training
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

$py - "$work" <<'PY'
import sys, numpy as np
d = sys.argv[1]
rng = np.random.default_rng(2026)
def i8(name, shape): np.save(f"{d}/{name}.npy", rng.integers(-128, 128, size=shape, dtype=np.int8))
def i32(name, n): np.save(f"{d}/{name}.npy", rng.integers(-4096, 4096, size=(n,), dtype=np.int32))
i8("c3_x", (1, 32, 18, 18)); i8("c3_w", (48, 32, 3, 3)); i32("c3_b", 48)
i8("c1_x", (1, 64, 16, 16)); i8("c1_w", (128, 64, 1, 1)); i32("c1_b", 128)
i8("fc_x", (1, 384)); i8("fc_w", (96, 384)); i32("fc_b", 96)
i8("ew_a", (1, 32, 16, 16)); i8("ew_b", (1, 32, 16, 16))
PY

rm -rf "$out"
mkdir -p "$out"
record() {  # record NAME ARGS...: one operator, its single device run kept as training/NAME
  local name=$1; shift
  "$vta" op "$@" --target fsim --record "$work/$name" -o "$work/$name.npy" > /dev/null
  mv "$work/$name/run000" "$out/$name"
}
record conv3x3 conv2d -i "$work/c3_x.npy" -w "$work/c3_w.npy" -b "$work/c3_b.npy" --shift 9 --relu
record conv1x1_s2 conv2d -i "$work/c1_x.npy" -w "$work/c1_w.npy" -b "$work/c1_b.npy" --shift 8 --stride 2
record dense dense -i "$work/fc_x.npy" -w "$work/fc_w.npy" -b "$work/fc_b.npy" --shift 10
record add add -i "$work/ew_a.npy" --input-b "$work/ew_b.npy" --shift 1
record maxpool maxpool -i "$work/ew_a.npy" --kernel 3 --stride 2 --pad 1
du -sh "$out"/*
