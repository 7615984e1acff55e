# The targets users type. `make run` is the main job on the default config; `make test` is what CI runs.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
CONFIG ?= configs/mac_os_8x8_i8.toml
CASES ?= 50
SEED ?= 1
ACCELC := target/release/accelc
PRESETS := $(sort $(wildcard configs/*.toml))

.PHONY: setup build run gen lint verify verify-networks synth check test bench bench-sac bench-sparse bench-system bench-networks fpga-table explore train-demo clean

setup:
	bash scripts/setup.sh

build:
	cargo build --release --quiet

# Main job: install tools if missing, build, generate, lint, verify and synthesize CONFIG, then a summary.
RUN_LOG := rtl_out/run
run: setup
	@mkdir -p $(RUN_LOG)
	$(ACCELC) gen $(CONFIG) | tee $(RUN_LOG)/gen.txt
	$(ACCELC) lint $(CONFIG) | tee $(RUN_LOG)/lint.txt
	$(ACCELC) verify $(CONFIG) --cases $(CASES) --seed $(SEED) | tee $(RUN_LOG)/verify.txt
	$(ACCELC) synth $(CONFIG) | tee $(RUN_LOG)/synth.txt
	@echo; echo "== summary"
	@tail -n 1 $(RUN_LOG)/gen.txt; tail -n 1 $(RUN_LOG)/lint.txt; tail -n 1 $(RUN_LOG)/verify.txt
	@grep -E '^ +total +per PE|^  (cells|flip-flops|transistors) ' $(RUN_LOG)/synth.txt | sed 's/^ */synth: /'
	@grep -E '^  report: ' $(RUN_LOG)/synth.txt | sed 's/^ */synth /'

gen: build
	$(ACCELC) gen $(CONFIG)

lint: build
	$(ACCELC) lint $(CONFIG)

# Every preset linted (Verilator -Wall, Yosys checks, Icarus) and verified against the reference model in
# Verilator; all presets run, then failures are listed.
verify: build
	@failed=""; for c in $(PRESETS); do \
	    $(ACCELC) lint $$c && $(ACCELC) verify $$c --cases $(CASES) --seed $(SEED) || failed="$$failed $$c"; done; \
	if [ -n "$$failed" ]; then echo "make verify: FAILED:$$failed"; exit 1; else echo "make verify: all $(words $(PRESETS)) presets passed"; fi

synth: build
	$(ACCELC) synth $(CONFIG)

# The shipped networks compiled and run on the system RTL in Verilator, checked against the model
# (every tensor bit for bit, every layer's cycles): the classifier on the OS, WS and SAC systems, the
# detector on the 8x8 OS system.
NET_OUT := rtl_out/networks
CLS := data/networks/ch_ppocr_mobile_v2.0_cls_infer.onnx
DET := data/networks/ch_PP-OCRv4_det_infer.onnx
verify-networks: build
	@for sys in system_os_4x4_i8 system_ws_4x4_i8 system_sac_4x8_i8; do \
	    $(ACCELC) compile $(CLS) --config configs/$$sys.toml --calib cls-samples -o $(NET_OUT)/cls_$$sys | tail -n 1 && \
	    $(ACCELC) run $(NET_OUT)/cls_$$sys --input cls-samples:5 --rtl | grep -E '^(total|RTL|MISMATCH)' || exit 1; done
	$(ACCELC) compile $(DET) --config configs/system_os_8x8_i8.toml --calib det-samples -o $(NET_OUT)/det_system_os_8x8_i8 | tail -n 1
	$(ACCELC) run $(NET_OUT)/det_system_os_8x8_i8 --input det-samples:0 --rtl | grep -E '^(total|RTL|MISMATCH)'

# Every target builds (benches, examples), clippy has nothing to say, the code is rustfmt-formatted.
check:
	cargo build --quiet --all-targets
	cargo clippy --quiet --all-targets -- -D warnings
	cargo fmt --check

test:
	cargo test --quiet

bench: build
	cargo bench --quiet --bench spine
	cargo bench --quiet --bench sac
	cargo bench --quiet --bench sparse
	cargo bench --quiet --bench system
	cargo bench --quiet --bench networks

# System tops on whole real conv layers: MACs per PE per cycle (loads and stores included), bytes per MAC;
# tables in rtl_out/bench/system.{json,csv}.
bench-system: build
	cargo bench --quiet --bench system

# Whole networks (PP-OCR classifier and detector) compiled for 8x8/16x16 MAC (OS, WS) and 8x8 SAC system
# tops: cycles (cycle model), utilization and energy per layer and inference, and a pruning table on the
# classifier. Tables in rtl_out/bench/networks.{json,csv}, networks_pruning.csv, networks_pruning_cycles.svg.
bench-networks: build
	cargo bench --quiet --bench networks

# MAC vs SAC (Tetris) on real networks; tables in rtl_out/bench/sac.{json,csv}.
bench-sac: build
	cargo bench --quiet --bench sac

# System presets: the system top (AXI ports through the registered-I/O wrapper, scratchpads in block RAM).
# The 8x8 MAC systems fit the 45k (72 of 72 MULT18X18D); the 4x8 SAC system does not (its SAC units are LUTs).
# config:target:device[:placer] (the system tops route better with heap than with ECP5's default, static)
FPGA_RUNS := mac_os_4x4_i4:ice40:up5k mac_os_4x4_i4_p3:ice40:up5k mac_os_4x4_i4:ecp5:25k mac_os_8x8_i8:ice40:up5k mac_os_8x8_i8:ice40:hx8k \
             mac_os_8x8_i8:ecp5:25k mac_os_8x8_i8:ecp5:45k mac_os_8x8_i8:ecp5:85k \
             mac_os_8x8_i8_p3:ecp5:45k mac_ws_8x8_i8:ecp5:45k mac_ws_8x8_i8_p3:ecp5:45k \
             system_os_4x4_i8:ice40:up5k system_os_8x8_i8:ecp5:45k:heap system_ws_8x8_i8:ecp5:45k:heap \
             system_sac_4x8_i8:ecp5:45k:heap

# SparseTrain: sparse 1-D rows vs the same rows fed dense vs the MAC array, on real conv layers in the three
# training phases; Yosys area. Tables in rtl_out/bench/sparse.{json,csv}.
bench-sparse: build
	cargo bench --quiet --bench sparse

# SparseTrain demo: a TCN learns the adding problem on the sparse array's model, with and without gradient
# pruning; loss curves, sparsity, cycles and an RTL check of sampled jobs (rtl_out/train_demo/, ~1 min).
train-demo: build
	$(ACCELC) train-demo

# FPGA figures for the README as a markdown table (cached in rtl_out/.synth: cold ~32 min on 2 cores, then instant).
fpga-table: build
	@echo "| config | target | part | LUTs | FFs | DSP / MULT18 | BRAM | Fmax (MHz) | GMAC/s (per kLUT) | critical path |"
	@echo "|---|---|---|---:|---:|---:|---:|---|---:|---|"
	@for r in $(FPGA_RUNS); do set -- $$(echo $$r | tr : ' '); \
	    $(ACCELC) synth configs/$$1.toml --target $$2 --device $$3 $${4:+--placer $$4} -o rtl_out/fpga/$$1-$$2-$$3 --markdown-row || exit 1; \
	done

# Design-space exploration of the shipped example space: points, Pareto table and SVG plots in rtl_out/explore/
# (synthesis cached in rtl_out/.synth: the first run takes minutes, a rerun seconds).
SPACE ?= spaces/example.toml
explore: build
	$(ACCELC) explore $(SPACE) -o rtl_out/explore

clean:
	rm -rf rtl_out
