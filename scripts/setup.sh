#!/usr/bin/env bash
# Installs the Debian packages this project builds and tests with. Idempotent: when every package is
# already installed it does nothing (no apt-get update, no network). Meant for Debian 12 (bookworm), run
# as root (or with sudo available).
set -euo pipefail

packages=(
  build-essential
  cmake
  ninja-build
  pkg-config
  git
  nlohmann-json3-dev
  libcli11-dev
  libfmt-dev
  libgtest-dev
  libgmock-dev
  libbenchmark-dev
  python3-numpy
  # Models: the ONNX front end (protobuf), the model scripts (PyTorch, ONNX) and the Fashion-MNIST data.
  libonnx-dev
  libprotobuf-dev
  protobuf-compiler
  python3-onnx
  python3-torch
  dataset-fashion-mnist
  # RTL: Verilator (lint, tsim) and Yosys (synthesis checks); bookworm ships 5.006 and 0.23.
  verilator
  yosys
  # The tlm timing model (simulator/tlm): SystemC 2.3.4 with TLM-2.0.
  libsystemc-dev
  # vta dse on a cluster: a private single-node Slurm cluster for the `slurm` test (scripts/slurm_local.sh).
  slurm-wlm
  munge
  # The xrt backend (Alveo cards) links libxrt's native API; xrt::uuid needs libuuid.
  libxrt-dev
  uuid-dev
  # The FPGA flow checks (ctest fpga.flows) run the Vivado/Vitis Tcl against stand-ins in tclsh.
  tcl
)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup: all ${#packages[@]} required Debian packages are installed"
  exit 0
fi

echo "setup: installing missing packages: ${missing[*]}"
if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "setup: need root (or sudo) to install: ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update
"${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
echo "setup: done"
