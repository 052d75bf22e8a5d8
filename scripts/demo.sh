#!/usr/bin/env bash
# The main demo: installs what is missing, builds (Release) into build/, then runs real models on the
# simulated core:
#   1. Fashion-MNIST: the committed CNN (models/fashion_mnist_cnn.onnx) compiled to int8 (calibrated on
#      256 training images) and run on the 10,000 test images: accuracy of the float model, of the int8
#      model on the CPU reference executor and of the int8 model on fsim;
#   2. ResNet-18 (ImageNet architecture, fixed-seed weights, written as ONNX by scripts/models): compiled,
#      run on fsim and on tsim (the Verilated RTL), bit-exact against the int8 CPU reference, with the
#      per-layer profile.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh

generator=()
if [[ ! -f build/CMakeCache.txt ]]; then
  generator=(-G Ninja)
fi
cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)" --target vta

vta=build/tools/vta/vta
py=/usr/bin/python3
work=build/demo
mkdir -p "$work"

echo
echo "== Fashion-MNIST: data (Debian's dataset-fashion-mnist) =="
$py scripts/models/fashion_mnist.py export --split test --count 10000 \
  --out-images "$work/fmnist_test_x.npy" --out-labels "$work/fmnist_test_y.npy"
$py scripts/models/fashion_mnist.py export --split train --count 256 --offset 0 \
  --out-images "$work/fmnist_calib_x.npy" --out-labels "$work/fmnist_calib_y.npy"

echo
echo "== Fashion-MNIST: vta compile =="
$vta compile models/fashion_mnist_cnn.onnx -o "$work/fashion_mnist.vtapkg" --calib "$work/fmnist_calib_x.npy"

echo
echo "== Fashion-MNIST: float model (CPU reference) =="
$vta run models/fashion_mnist_cnn.onnx --calib "$work/fmnist_calib_x.npy" --input "$work/fmnist_test_x.npy" \
  --labels "$work/fmnist_test_y.npy" --reference float -q
echo
echo "== Fashion-MNIST: int8 model (CPU reference executor) =="
$vta run "$work/fashion_mnist.vtapkg" --input "$work/fmnist_test_x.npy" --labels "$work/fmnist_test_y.npy" \
  --reference int8 -q
echo
echo "== Fashion-MNIST: int8 model on simulated VTA (fsim) =="
$vta run "$work/fashion_mnist.vtapkg" --input "$work/fmnist_test_x.npy" --labels "$work/fmnist_test_y.npy" -q

echo
echo "== ResNet-18: ONNX model (scripts/models/resnet18_onnx.py) =="
if [[ ! -f "$work/resnet18.onnx" ]]; then
  $py scripts/models/resnet18_onnx.py --out "$work/resnet18.onnx" --input-out "$work/resnet18_input.npy"
fi
$vta compile "$work/resnet18.onnx" -o "$work/resnet18.vtapkg" --calib "$work/resnet18_input.npy"

echo
echo "== ResNet-18 on fsim, checked against the int8 CPU reference =="
$vta run "$work/resnet18.vtapkg" --input "$work/resnet18_input.npy" --check --profile "$work/resnet18_fsim.json"

echo
echo "== ResNet-18 on tsim (cycle-accurate RTL; DRAM 8 B/cycle, 32-cycle latency) =="
VTA_TSIM_DRAM_LATENCY=32 VTA_TSIM_DRAM_BYTES_PER_CYCLE=8 \
  $vta run "$work/resnet18.vtapkg" --input "$work/resnet18_input.npy" --target tsim --check \
  --profile "$work/resnet18_tsim.json"
