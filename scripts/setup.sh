#!/usr/bin/env bash
# Installs what accelc needs on a fresh Debian machine (Verilator, Yosys, Icarus, a C++ toolchain)
# when it is missing, then builds accelc. Safe to run again: it only installs what is absent.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pair in verilator:verilator yosys:yosys iverilog:iverilog g++:g++ make:make; do
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
if ! command -v cargo >/dev/null 2>&1; then
    echo "setup: cargo not found; install Rust from https://rustup.rs and run this again" >&2
    exit 1
fi
echo "setup: $(verilator --version | head -1); $(yosys -V); $(iverilog -V 2>&1 | head -1)"
cargo build --release --quiet
echo "setup: built target/release/accelc"
