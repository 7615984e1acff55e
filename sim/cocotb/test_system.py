"""cocotb test of an accelc system top (`<name>_system`), independent of the Rust model.

The design is driven only through its AXI ports (aclk, aresetn, AXI4-Lite s_axi_*, AXI4-Stream s_axis_*
and m_axis_*; `irq` is observed), with cocotbext-axi and random pauses on both streams, by the
generated host library's Driver (`ACCELC_HOST_LIB`: the design's `<top>_host.py`). Results are checked
against the numpy reference below: a plain int64 convolution and the requantization formula of the
system spec, written from the spec and not from the model. Run by sim/cocotb/run_system.py
(`cargo test --test system_cocotb`).
"""

import importlib.util
import logging
import os
import random
import sys
import warnings
import zlib

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge, SimTimeoutError, with_timeout
from cocotbext.axi import AxiLiteBus, AxiLiteMaster, AxiStreamBus, AxiStreamFrame, AxiStreamSink, AxiStreamSource


def _load_host():
    path = os.environ["ACCELC_HOST_LIB"]
    spec = importlib.util.spec_from_file_location("accelc_host", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["accelc_host"] = mod
    spec.loader.exec_module(mod)
    return mod


H = _load_host()
# cocotbext-axi 0.1.28 still calls APIs that cocotb 2.x deprecates; their warnings say nothing about the design.
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"cocotbext\.")
C = H.WORD_BYTES
SEED = int(os.environ.get("ACCELC_SEED", "1"))
CLOCK_NS = 10
RUN_TIMEOUT_US = 500  # 50,000 cycles: a run of these small jobs takes a few thousand


# ---------------------------------------------------------------------------------------------------
# Reference (from the spec): out[oy][ox][co] = requant(sum over ky, kx, ci of
#   x[oy*sh + ky*dh - pad_top][ox*sw + kx*dw - pad_left][ci] * w[co][ky][kx][ci]), zero outside the image.


def reference_acc(x, w, stride, dilation, pad, out_hw):
    """The exact dot products (int64), zero-padded input."""
    x = x.astype(np.int64)
    w = w.astype(np.int64)
    in_h, in_w, _ = x.shape
    out_c, kh, kw, _ = w.shape
    (sh, sw), (dh, dw), (ph, pw), (oh, ow) = stride, dilation, pad, out_hw
    acc = np.zeros((oh, ow, out_c), dtype=np.int64)
    for oy in range(oh):
        for ox in range(ow):
            for ky in range(kh):
                iy = oy * sh + ky * dh - ph
                if not 0 <= iy < in_h:
                    continue
                for kx in range(kw):
                    ix = ox * sw + kx * dw - pw
                    if 0 <= ix < in_w:
                        acc[oy, ox, :] += w[:, ky, kx, :] @ x[iy, ix, :]
    assert np.all(np.abs(acc) < 2**31), "test jobs keep the dot products inside int32"
    return acc


def requantize(acc, bias, mult, shift, out_zp, relu):
    """sum = acc + bias; prod = sum * mult; q = prod if shift == 0 else (prod + 2^(shift-1)) >> shift
    (arithmetic); v = q + out_zp; relu: v = max(v, out_zp); y = clamp(v, -128, 127). Per channel."""
    bias = np.asarray(bias, dtype=np.int64)
    mult = np.asarray(mult, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    prod = (acc + bias) * mult  # |prod| < 2^49: exact in int64
    rounding = np.where(shift > 0, np.left_shift(np.int64(1), np.maximum(shift - 1, 0)), 0)
    q = np.right_shift(prod + rounding, shift)
    v = q + out_zp
    if relu:
        v = np.maximum(v, out_zp)
    return np.clip(v, -128, 127).astype(np.int8)


class Layer:
    """A conv job with its tensors and the reference output."""

    def __init__(self, x, w, bias, mult, shift, *, stride=(1, 1), dilation=(1, 1), pad=(0, 0), out_zp=0,
                 relu=False, load_weights=True, last=False, gemm=False):
        self.gemm = gemm
        self.w, self.req = w, (bias, mult, shift)  # as given (B for a GEMM)
        if gemm:  # x = A (M x K), w = B (K x N)
            self.job = H.gemm_job(x, w, bias, mult, shift, out_zp=out_zp, relu=relu, load_weights=load_weights,
                                  last=last)
            x, w = x.reshape(1, *x.shape), np.ascontiguousarray(w.T).reshape(w.shape[1], 1, 1, w.shape[0])
        else:
            self.job = H.conv_job(x, w, bias, mult, shift, stride=stride, dilation=dilation, pad=pad,
                                  out_zp=out_zp, relu=relu, load_weights=load_weights, last=last)
        out_h, out_w, _ = self.job.out_shape
        acc = reference_acc(x, w, stride, dilation, pad, (out_h, out_w))
        self.expected = requantize(acc, bias, mult, shift, out_zp, relu)
        self.out_zp = out_zp

    def check(self, words, what):
        got = H.unpack_output(words, self.job)
        if self.gemm:
            got = got[0]
            expected = self.expected[0]
        else:
            expected = self.expected
        if not np.array_equal(got, expected):
            bad = np.argwhere(got != expected)
            first = tuple(int(i) for i in bad[0])
            raise AssertionError(f"{what}: {len(bad)} of {got.size} outputs differ; first at {first}: "
                                 f"got {got[first]}, expected {expected[first]}")
        # Lanes past out_c in the last tile carry a zero record's result: the zero point (spec, layout.rs).
        out_h, out_w, out_c = self.job.out_shape
        if out_c % C:
            lanes = np.frombuffer(b"".join(bytes(wd) for wd in words), dtype=np.int8).reshape(-1, out_h, out_w, C)
            pad = lanes[-1, :, :, out_c % C :]
            assert np.all(pad == self.out_zp), f"{what}: lanes past out_c are {np.unique(pad)}, not out_zp {self.out_zp}"
        # Most outputs must not saturate (else the check proves little): a property of the stimulus.
        assert np.mean(np.abs(expected.astype(int)) < 127) > 0.3, f"{what}: the stimulus saturates"


class Stimulus:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def i8(self, *shape):
        return self.rng.integers(-128, 128, size=shape, dtype=np.int64).astype(np.int8)

    def weights(self, *shape):
        """Random int8 weights the system takes: a SAC system's kneaded weights are -127..127."""
        lo = -127 if H.SAC else -128
        return self.rng.integers(lo, 128, size=shape, dtype=np.int64).astype(np.int8)

    def requant(self, out_c, k):
        """Per-channel records: most channels scaled so outputs spread over int8 (|acc| ~ sqrt(k) * 74^2),
        every third channel raw random (shift 0..63: saturating and vanishing ones)."""
        spread = int(np.sqrt(k) * 3000)  # the bias is of the sums' size
        bias = self.rng.integers(-spread, spread + 1, size=out_c)
        mult = np.zeros(out_c, dtype=np.int64)
        shift = np.zeros(out_c, dtype=np.int64)
        for co in range(out_c):
            if co % 3 == 2 and co > 0:
                mult[co], shift[co] = self.rng.integers(0, 65536), self.rng.integers(0, 64)
            else:
                scale = 40.0 / (np.sqrt(k) * 5500.0) * self.rng.uniform(0.5, 2.0)
                mult[co], shift[co] = H.quantize_multiplier(scale)
        return bias, mult, shift

    def conv(self, in_hwc, out_c, k_hw, **kw):
        x = self.i8(*in_hwc)
        w = self.weights(out_c, k_hw[0], k_hw[1], in_hwc[2])
        return Layer(x, w, *self.requant(out_c, k_hw[0] * k_hw[1] * in_hwc[2]), **kw)

    def gemm(self, m, k, n, **kw):
        return Layer(self.i8(m, k), self.weights(k, n), *self.requant(n, k), gemm=True, **kw)


# ---------------------------------------------------------------------------------------------------
# Testbench


class TB:
    def __init__(self, dut, seed):
        self.dut = dut
        self.rand = random.Random(seed)
        Clock(dut.aclk, CLOCK_NS, unit="ns").start()
        for bus in ("s_axi", "s_axis", "m_axis"):  # cocotbext-axi logs a banner and every transaction
            logging.getLogger(f"cocotb.{dut._path}.{bus}").setLevel(logging.WARNING)
        reset = dict(reset=dut.aresetn, reset_active_level=False)
        self.axil = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axi"), dut.aclk, **reset)
        self.source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis"), dut.aclk, **reset)
        self.sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis"), dut.aclk, **reset)
        self.source.set_pause_generator(self._pauses(0.3))
        self.sink.set_pause_generator(self._pauses(0.3))
        self.irq = dut.irq
        self.in_beats = 0
        self.out_beats = 0
        cocotb.start_soon(self._count_beats())
        self.driver = H.Driver(
            read=self.axil.read_dword,
            write=self.axil.write_dword,
            send=self._send,
            recv=self._recv,
            pending=lambda: not self.sink.empty(),
        )

    def _pauses(self, p):
        while True:
            yield self.rand.random() < p

    async def _count_beats(self):
        dut = self.dut
        while True:
            await RisingEdge(dut.aclk)
            if dut.aresetn.value != 1:
                continue
            if dut.s_axis_tvalid.value == 1 and dut.s_axis_tready.value == 1:
                self.in_beats += 1
            if dut.m_axis_tvalid.value == 1 and dut.m_axis_tready.value == 1:
                self.out_beats += 1

    async def _send(self, words):
        await self.source.send(AxiStreamFrame(b"".join(words)))

    async def _recv(self):
        data = bytes((await self.sink.recv()).tdata)
        assert len(data) % C == 0
        return [data[i : i + C] for i in range(0, len(data), C)]

    async def reset(self):
        self.dut.aresetn.value = 0
        await ClockCycles(self.dut.aclk, 5)
        self.dut.aresetn.value = 1
        await ClockCycles(self.dut.aclk, 2)
        self.in_beats = 0
        self.out_beats = 0

    async def read(self, name):
        return await self.axil.read_dword(H.REGISTERS[name])

    async def run(self, layers, what, interrupt=True):
        """One run of `layers` through the Driver; checks every output, the counters and the interrupt."""
        in0, out0 = self.in_beats, self.out_beats
        res = await self.within(self.driver.run([la.job for la in layers], interrupt=interrupt), what)
        assert res.error == H.ERROR_NONE, f"{what}: ERROR = {res.error} ({res.error_name}), job {res.error_job}"
        assert res.done_seen, f"{what}: CTRL.DONE was never read as 1"
        assert len(res.outputs) == len(layers), f"{what}: {len(res.outputs)} jobs' outputs, expected {len(layers)}"
        for k, (layer, words) in enumerate(zip(layers, res.outputs)):
            layer.check(words, f"{what} job {k}")
        assert res.jobs_done == len(layers), f"{what}: JOBS_DONE = {res.jobs_done}, expected {len(layers)}"
        assert res.cycles > 0, f"{what}: CYCLES = 0"
        frames = sum(len(la.job.frame()) for la in layers)
        outs = sum(la.job.out_words for la in layers)
        assert self.in_beats - in0 == frames, f"{what}: {self.in_beats - in0} input beats taken, frames have {frames}"
        assert self.out_beats - out0 == outs, f"{what}: {self.out_beats - out0} output beats, expected {outs}"
        assert res.cycles >= outs, f"{what}: CYCLES = {res.cycles} < {outs} output beats"
        assert self.sink.empty(), f"{what}: output packets after the run"
        await self.check_interrupt(what, interrupt)
        self.dut._log.info("%s: %d jobs, %d cycles", what, len(layers), res.cycles)
        return res

    async def within(self, coro, what):
        """Awaits `coro` for at most RUN_TIMEOUT_US: a design that hangs fails the test instead."""
        try:
            return await with_timeout(coro, RUN_TIMEOUT_US, "us")
        except SimTimeoutError:
            raise AssertionError(
                f"{what}: not finished after {RUN_TIMEOUT_US} us; input beats taken {self.in_beats}, "
                f"output beats {self.out_beats}, output packets waiting {self.sink.count()}"
            ) from None

    async def check_interrupt(self, what, gie=True):
        """After a run with IER = 1: ISR.0 is set, `interrupt` = GIE.0 & ISR.0, writing 1 to ISR clears it."""
        await ClockCycles(self.dut.aclk, 2)
        assert (await self.read("ISR")) & 1 == 1, f"{what}: ISR.0 not set after the run"
        if not gie:
            assert self.irq.value == 0, f"{what}: interrupt high with GIE = 0"
            await self.axil.write_dword(H.REG_GIE, 1)
            await ClockCycles(self.dut.aclk, 2)
        assert self.irq.value == 1, f"{what}: interrupt low after the run with GIE = IER = 1"
        await self.axil.write_dword(H.REG_ISR, 1)
        await ClockCycles(self.dut.aclk, 2)
        assert self.irq.value == 0, f"{what}: interrupt still high after ISR was cleared"
        assert (await self.read("ISR")) & 1 == 0, f"{what}: ISR.0 still set after writing 1 to it"


async def make_tb(dut, tag):
    tb = TB(dut, zlib.crc32(f"{SEED} {tag}".encode()))
    await tb.reset()
    return tb


def stimulus(tag):
    return Stimulus([SEED, zlib.crc32(tag.encode())])


# ---------------------------------------------------------------------------------------------------
# Tests


@cocotb.test()
async def registers(dut):
    """Read-only identification and sizes; IDLE after reset; GIE/IER read back."""
    tb = await make_tb(dut, "registers")
    assert await tb.read("ID") == H.ID_VALUE
    assert await tb.read("ARRAY") == (H.COLS << 16) | H.ROWS
    for name in ("ACT_WORDS", "WEIGHT_WORDS", "PARAM_TILES", "OUT_WORDS"):
        assert await tb.read(name) == getattr(H, name), name
    ctrl = await tb.read("CTRL")
    assert ctrl & H.CTRL_IDLE and not ctrl & H.CTRL_START, f"CTRL = {ctrl:#x} after reset"
    for name in ("GIE", "IER"):
        await tb.axil.write_dword(H.REGISTERS[name], 1)
        assert await tb.read(name) & 1 == 1, name
        await tb.axil.write_dword(H.REGISTERS[name], 0)
        assert await tb.read(name) & 1 == 0, name
    assert tb.irq.value == 0


@cocotb.test()
async def conv3x3_padded(dut):
    """3x3 conv, padding 1, in_c and out_c not multiples of C, ReLU, nonzero zero point."""
    tb = await make_tb(dut, "conv3x3")
    s = stimulus("conv3x3")
    await tb.run([s.conv((6, 5, C + 2), C + 3, (3, 3), pad=(1, 1), out_zp=-5, relu=True, last=True)], "conv3x3")


@cocotb.test()
async def conv_strided(dut):
    """Stride 2, padding, one dilated axis."""
    tb = await make_tb(dut, "strided")
    s = stimulus("strided")
    layer = s.conv((9, 8, 5), C, (3, 2), stride=(2, 2), dilation=(1, 2), pad=(1, 1), out_zp=7, last=True)
    await tb.run([layer], "strided")


@cocotb.test()
async def conv1x1(dut):
    """1x1 conv over a 3x5 map, 2C+1 input channels; run with GIE = 0 (the interrupt stays low)."""
    tb = await make_tb(dut, "conv1x1")
    s = stimulus("conv1x1")
    await tb.run([s.conv((3, 5, 2 * C + 1), 2 * C + 2, (1, 1), out_zp=3, last=True)], "conv1x1", interrupt=False)


@cocotb.test()
async def gemm(dut):
    """A (M x K) . B (K x N) as a 1x1 conv over a 1 x M image."""
    tb = await make_tb(dut, "gemm")
    s = stimulus("gemm")
    await tb.run([s.gemm(3 * H.ROWS + 1, 3 * C + 1, C + 2, out_zp=-2, last=True)], "gemm")


@cocotb.test()
async def layers_back_to_back(dut):
    """Four jobs of different shapes in one run: the loader fills one bank while the engine computes."""
    tb = await make_tb(dut, "back_to_back")
    s = stimulus("back_to_back")
    layers = [
        s.conv((5, 4, 3), C + 1, (3, 3), pad=(1, 1), relu=True),
        s.conv((4, 4, 2 * C), 3, (2, 2), stride=(2, 1)),
        s.gemm(H.ROWS + 2, C + 3, 2 * C),
        s.conv((2, 3, 1), 1, (1, 1), out_zp=-20, last=True),
    ]
    await tb.run(layers, "back_to_back")


@cocotb.test()
async def weights_reused(dut):
    """The second job has no LOAD_WEIGHTS: it reuses the first job's weights and records."""
    tb = await make_tb(dut, "reuse")
    s = stimulus("reuse")
    first = s.conv((4, 5, C + 1), C + 2, (3, 3), pad=(1, 1), out_zp=1)
    x2 = s.i8(6, 3, C + 1)  # another map, same channels: same tiles and reduction length
    second = Layer(x2, first.w, *first.req, pad=(1, 1), out_zp=-3, relu=True, load_weights=False, last=True)
    assert second.job.payload == H.act_words(x2), "no records or weights in the second frame"
    await tb.run([first, second], "reuse")


@cocotb.test()
async def malformed_descriptor(dut):
    """Job 1 has opcode 9: ERROR = BAD_OPCODE, ERROR_JOB = 1, job 0's output only, DONE, no hang; no beat
    after the failed frame is taken; the next run (START) clears ERROR and runs a good job."""
    tb = await make_tb(dut, "malformed")
    s = stimulus("malformed")
    good = s.conv((3, 4, C), C, (3, 3), pad=(1, 1))
    bad = s.conv((3, 4, C), C, (3, 3), pad=(1, 1))
    bad.job.descriptor = bytes([9]) + bytes(bad.job.descriptor[1:])
    after = s.conv((4, 3, 2), 3, (1, 1), last=True)

    res = await tb.within(tb.driver.run([good.job, bad.job, after.job]), "malformed")
    assert res.error == H.ERROR_BAD_OPCODE, f"ERROR = {res.error} ({res.error_name}), expected BAD_OPCODE"
    assert res.error_job == 1, f"ERROR_JOB = {res.error_job}"
    assert res.jobs_done == 1, f"JOBS_DONE = {res.jobs_done}"
    assert res.done_seen, "CTRL.DONE was never read as 1"
    assert res.cycles > 0, "CYCLES = 0"
    assert len(res.outputs) == 1, f"{len(res.outputs)} jobs' outputs, expected 1"
    good.check(res.outputs[0], "malformed: job 0")
    taken = len(good.job.frame()) + len(bad.job.frame())  # the failed frame is drained to its tlast
    assert tb.in_beats == taken, f"{tb.in_beats} input beats taken, expected {taken}"
    await tb.check_interrupt("malformed")

    # Whatever is offered now (the Driver may have queued the third frame) is not taken while idle.
    if tb.source.empty():
        await tb.source.send(AxiStreamFrame(b"".join(after.job.frame())))
    await ClockCycles(dut.aclk, 200)
    assert tb.in_beats == taken, "a beat was taken after the failed frame"
    assert tb.sink.empty() and tb.out_beats == good.job.out_words, "output after the failed frame"

    # A new run takes the waiting frame (a good job with LAST) and starts with ERROR cleared.
    await tb.driver.start()
    words = await tb.within(tb.driver.next_output(), "malformed: next run")
    assert words is not None, "no output from the run after the error"
    after.check(words, "malformed: next run")
    await tb.within(tb.driver.wait_idle(), "malformed: next run")
    cycles, error, _, jobs_done = await tb.driver.status()
    assert (error, jobs_done) == (H.ERROR_NONE, 1), f"next run: ERROR = {error}, JOBS_DONE = {jobs_done}"
    assert cycles > 0, "next run: CYCLES = 0"


@cocotb.test()
async def real_layers_chained(dut):
    """MTCNN's trained pnet.conv2 (3x3, 10 -> 16 channels) and pnet.conv4-1 (1x1, 32 -> 4; its first 16
    input channels fed by conv2), weights quantized per layer to int8 and output scales from float
    statistics as a deployment flow would choose them; conv2's output words are sent unchanged as
    conv4-1's input words (the output layout is the next layer's input layout: no host arithmetic)."""
    tb = await make_tb(dut, "real")
    root = os.path.join(os.environ["ACCELC_DATA"], "weights", "mtcnn")
    s = stimulus("real")

    def load(name, in_c=None):
        w = np.load(os.path.join(root, f"{name}.npy")).astype(np.float64)  # OIHW
        b = np.load(os.path.join(root, f"{name}.bias.npy")).astype(np.float64)
        if in_c is not None:
            w = w[:, :in_c]
        sw = np.abs(w).max() / 127.0
        wq = np.clip(np.round(w / sw), -127, 127).astype(np.int8).transpose(0, 2, 3, 1)  # OHWI
        return wq, b, sw

    x = s.rng.integers(0, 128, size=(8, 8, 10)).astype(np.int8)  # post-ReLU activations, scale 1/32
    sx = 1.0 / 32
    layers = []
    for name, in_c, pad in (("001_pnet.conv2", None, (1, 1)), ("003_pnet.conv4-1", 16, (0, 0))):
        wq, b, sw = load(name, in_c)
        acc = reference_acc(x, wq, (1, 1), (1, 1), pad, x.shape[:2])  # int64, only to pick the output scale
        sy = max(np.percentile(np.abs(acc), 99.5) * sx * sw / 127.0, 1e-9)
        bias = np.round(b / (sx * sw)).astype(np.int64)
        mult, shift = zip(*(H.quantize_multiplier(sx * sw / sy) for _ in range(wq.shape[0])))
        layer = Layer(x, wq, bias, list(mult), list(shift), pad=pad, relu=True, last=True)
        res = await tb.run([layer], name)
        if not layers:  # the next layer's input: conv2's words as they came out
            x = H.unpack_output(res.outputs[0], layer.job)
            assert [bytes(w) for w in res.outputs[0]] == [bytes(w) for w in H.act_words(x)], "output words are input words"
        layers.append(layer)
        sx = sy
