#!/usr/bin/env bash
# `vta board-emu` in the background, then the unchanged Zynq backend through it from another process:
# `vta exec --target zynq --check` on an Apache VTA recording and `vta run --target zynq --check` on the
# Fashion-MNIST model. Usage: board_emu_cli.sh VTA_BINARY RECORDING_DIR MODEL_ONNX WORK_DIR
set -euo pipefail
vta=$1 recording=$2 model=$3 work=$4
rm -rf "$work" && mkdir -p "$work"
"$vta" board-emu --dir "$work/board" --size-mb 48 > "$work/emu.log" 2>&1 &
emu=$!
trap 'kill $emu 2>/dev/null || true; wait $emu 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$work/board/sysfs/size" ] && break; sleep 0.1; done
export VTA_ZYNQ_REGS="$work/board/regs" VTA_ZYNQ_MEM="$work/board/mem" VTA_ZYNQ_SYSFS="$work/board/sysfs"
"$vta" exec --target zynq --check "$recording" | tee "$work/exec.log"
grep -q "check: PASS" "$work/exec.log"
/usr/bin/python3 -c "import numpy as np; np.save('$work/x.npy', np.random.RandomState(1).rand(2, 1, 28, 28).astype(np.float32))"
"$vta" run "$model" --input "$work/x.npy" --target zynq --check | tee "$work/run.log"
grep -q "bit-exact on 2 input(s)" "$work/run.log"
kill $emu
wait $emu || true
grep -q "run(s) served" "$work/emu.log"
echo "board-emu CLI: PASS"
