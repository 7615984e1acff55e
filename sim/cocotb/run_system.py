"""Builds a generated system top with Icarus Verilog and runs test_system.py on it (cocotb 2.x runner).

    .venv/bin/python sim/cocotb/run_system.py --rtl-dir DIR --top NAME_system --host-lib DIR/NAME_system_host.py
        [--build-dir DIR/cocotb] [--testcase NAME] [--seed N] [--waves]

DIR is an `accelc gen` output folder: the Verilog files are read from DIR/files.f, in its order. The
host library is the generated `<top>_host.py` (the test drives the design only through its Driver).
Prints one line `cocotb: N tests, F failed` and exits 1 on a failure or when no test ran.
`cargo test --test system_cocotb` runs this on configs/system_os_4x4_i8.toml.
"""

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rtl-dir", required=True, type=Path)
    ap.add_argument("--top", required=True)
    ap.add_argument("--host-lib", required=True, type=Path)
    ap.add_argument("--build-dir", type=Path)
    ap.add_argument("--testcase", help="run only this test (comma-separated names)")
    ap.add_argument("--seed", type=int, default=1, help="stimulus seed (also cocotb's RANDOM_SEED)")
    ap.add_argument("--waves", action="store_true", help="dump <top>.fst into the build folder")
    args = ap.parse_args()

    from cocotb_tools.check_results import get_results
    from cocotb_tools.runner import get_runner

    rtl = args.rtl_dir.resolve()
    files_f = rtl / "files.f"
    if not files_f.is_file():
        sys.exit(f"run_system: {files_f} is missing (is {rtl} an `accelc gen` output folder?)")
    sources = [rtl / line.strip() for line in files_f.read_text().splitlines() if line.strip()]
    missing = [str(s) for s in sources if not s.is_file()]
    if missing:
        sys.exit(f"run_system: files.f lists missing files: {missing}")
    if not (rtl / f"{args.top}.v").is_file():
        sys.exit(f"run_system: {rtl} has no {args.top}.v (the design has no system top)")
    build = (args.build_dir or rtl / "cocotb").resolve()
    host = args.host_lib.resolve()
    if not host.is_file():
        sys.exit(f"run_system: host library {host} is missing")

    sys.path.insert(0, str(HERE))  # the runner passes its sys.path to the simulator's Python
    runner = get_runner("icarus")
    runner.build(
        sources=sources,
        hdl_toplevel=args.top,
        build_dir=build,
        timescale=("1ns", "1ps"),
        waves=args.waves,
        always=True,
    )
    results = runner.test(
        test_module="test_system",
        hdl_toplevel=args.top,
        testcase=args.testcase,
        seed=args.seed,
        build_dir=build,
        test_dir=build,
        waves=args.waves,
        extra_env={
            "ACCELC_HOST_LIB": str(host),
            "ACCELC_SEED": str(args.seed),
            "ACCELC_DATA": str(HERE.parent.parent / "data"),
        },
        results_xml="results.xml",
    )
    tests, failed = get_results(Path(results))
    print(f"cocotb: {tests} tests, {failed} failed")
    if failed or tests == 0:
        sys.exit(1)


if __name__ == "__main__":
    os.environ.setdefault("COCOTB_ANSI_OUTPUT", "0")
    main()
