// accelc_tb.h: the hand-written support every generated accelc Verilator testbench shares.
//
// A generated tb_top.cpp defines a `Dut` adapter (which ports make up each channel) and calls
// accelc::run<Dut>(argc, argv). Everything else lives here: reading the stimulus, reset, the
// clocking loop, recording taken beats and output beats, the cycle limit, and the waveform.
// File formats and edge numbering: src/verify/format.rs and src/model/mod.rs.
//
// Plusargs: +stim=FILE (required) +result=FILE (required) +limit=EDGES (required)
//           +extra=EDGES (edges to keep watching after the last expected output, default 8)
//           +trace=FILE (write a waveform: FST when Verilator built with --trace-fst, else VCD)
#pragma once

#include <verilated.h>
#if VM_TRACE_FST
#include <verilated_fst_c.h>
namespace accelc {
using WaveFile = VerilatedFstC;
}
#else
#include <verilated_vcd_c.h>
namespace accelc {
using WaveFile = VerilatedVcdC;
}
#endif

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace accelc {

using Beat = std::vector<std::string>;  // one hex word per field

// ---- ports of any width from/to hex words (lane 0 in the low bits, MSB-first digits) ----------

inline int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::runtime_error(std::string("not a hex digit: ") + c);
}

// The hex word as little-endian 32-bit words, at least `nwords` of them; bits beyond `width` are an error.
inline std::vector<uint32_t> hex_to_words(const std::string& hex, unsigned width, size_t nwords) {
    std::vector<uint32_t> w(nwords, 0);
    size_t bit = 0;
    for (size_t i = hex.size(); i-- > 0; bit += 4) {
        uint32_t d = static_cast<uint32_t>(hex_digit(hex[i]));
        if (d == 0) continue;
        for (unsigned b = 0; b < 4; ++b) {
            if (!((d >> b) & 1u)) continue;
            if (bit + b >= width) throw std::runtime_error("hex word " + hex + " is wider than its port");
            w[(bit + b) / 32] |= 1u << ((bit + b) % 32);
        }
    }
    return w;
}

inline std::string words_to_hex(const uint32_t* w, unsigned width) {
    static const char* kDigits = "0123456789abcdef";
    const unsigned digits = width == 0 ? 1 : (width + 3) / 4;
    std::string s(digits, '0');
    for (unsigned d = 0; d < digits; ++d) {
        unsigned bit = d * 4;
        unsigned nib = (w[bit / 32] >> (bit % 32)) & 0xfu;
        if (bit + 4 > width) nib &= (1u << (width - bit)) - 1u;
        s[digits - 1 - d] = kDigits[nib];
    }
    return s;
}

template <class T>
inline void set_narrow(T& port, unsigned width, const std::string& hex) {
    std::vector<uint32_t> w = hex_to_words(hex, width, 2);
    uint64_t v = static_cast<uint64_t>(w[0]) | (static_cast<uint64_t>(w[1]) << 32);
    port = static_cast<T>(v);
}

template <class T>
inline std::string get_narrow(const T& port, unsigned width) {
    uint64_t v = static_cast<uint64_t>(port);
    uint32_t w[2] = {static_cast<uint32_t>(v), static_cast<uint32_t>(v >> 32)};
    return words_to_hex(w, width);
}

inline void set_port(CData& p, unsigned width, const std::string& hex) { set_narrow(p, width, hex); }
inline void set_port(SData& p, unsigned width, const std::string& hex) { set_narrow(p, width, hex); }
inline void set_port(IData& p, unsigned width, const std::string& hex) { set_narrow(p, width, hex); }
inline void set_port(QData& p, unsigned width, const std::string& hex) { set_narrow(p, width, hex); }
template <std::size_t N>
inline void set_port(VlWide<N>& p, unsigned width, const std::string& hex) {
    std::vector<uint32_t> w = hex_to_words(hex, width, N);
    for (std::size_t i = 0; i < N; ++i) p[i] = w[i];
}

inline std::string get_port(const CData& p, unsigned width) { return get_narrow(p, width); }
inline std::string get_port(const SData& p, unsigned width) { return get_narrow(p, width); }
inline std::string get_port(const IData& p, unsigned width) { return get_narrow(p, width); }
inline std::string get_port(const QData& p, unsigned width) { return get_narrow(p, width); }
template <std::size_t N>
inline std::string get_port(const VlWide<N>& p, unsigned width) {
    return words_to_hex(p.data(), width);
}

// The all-zero hex word (drives a channel's fields while it offers nothing).
inline const std::string& zero() {
    static const std::string z = "0";
    return z;
}

// ---- stimulus --------------------------------------------------------------------------------

struct Stimulus {
    uint64_t expect = 0;
    std::vector<std::string> names;
    std::vector<std::vector<Beat>> beats;  // per channel, per beat
};

inline Stimulus read_stimulus(const std::string& path, int channels, const char* const* names,
                              const int* fields) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open stimulus " + path);
    Stimulus s;
    std::string line, word;
    auto next_line = [&](std::istringstream& ls) {
        while (std::getline(in, line)) {
            if (line.empty() || line[0] == '#') continue;
            ls.clear();
            ls.str(line);
            return true;
        }
        return false;
    };
    std::istringstream ls;
    if (!next_line(ls) || !(ls >> word >> s.expect) || word != "expect")
        throw std::runtime_error(path + ": must start with `expect N`");
    for (int c = 0; c < channels; ++c) {
        std::string name;
        int nf = 0;
        size_t nb = 0;
        if (!next_line(ls) || !(ls >> word >> name >> nf >> nb) || word != "channel" || name != names[c] ||
            nf != fields[c])
            throw std::runtime_error(path + ": expected the block `channel " + names[c] + " " +
                                     std::to_string(fields[c]) + " <beats>`");
        s.names.push_back(name);
        std::vector<Beat> beats(nb);
        for (size_t b = 0; b < nb; ++b) {
            if (!next_line(ls)) throw std::runtime_error(path + ": channel " + name + " has too few beats");
            for (int f = 0; f < nf; ++f) {
                if (!(ls >> word)) throw std::runtime_error(path + ": short beat line: " + line);
                beats[b].push_back(word);
            }
        }
        s.beats.push_back(std::move(beats));
    }
    return s;
}

inline std::string plusarg(VerilatedContext* ctx, const std::string& name) {
    const std::string key = "+" + name + "=";
    std::string m = ctx->commandArgsPlusMatch((name + "=").c_str());
    return m.compare(0, key.size(), key) == 0 ? m.substr(key.size()) : std::string();
}

// ---- the run ---------------------------------------------------------------------------------

// Dut must provide: kInputs, kInputNames[], kInputFields[], a `top` pointer to the Verilated model,
// clk(int), rst(int), drive(int channel, const Beat* beat_or_null), ready(int channel),
// out_valid(), out_fields() -> Beat.
template <class Dut>
int run(int argc, char** argv) {
    const std::unique_ptr<VerilatedContext> ctx{new VerilatedContext};
    ctx->commandArgs(argc, argv);
    const std::string stim_path = plusarg(ctx.get(), "stim");
    const std::string result_path = plusarg(ctx.get(), "result");
    const std::string limit_s = plusarg(ctx.get(), "limit");
    const std::string extra_s = plusarg(ctx.get(), "extra");
    const std::string trace_path = plusarg(ctx.get(), "trace");
    if (stim_path.empty() || result_path.empty() || limit_s.empty()) {
        std::fprintf(stderr, "usage: %s +stim=FILE +result=FILE +limit=EDGES [+extra=EDGES] [+trace=FILE.vcd|FILE.fst]\n",
                     argv[0]);
        return 2;
    }
    const uint64_t limit = std::stoull(limit_s);
    const uint64_t extra = extra_s.empty() ? 8 : std::stoull(extra_s);

    Stimulus stim;
    try {
        stim = read_stimulus(stim_path, Dut::kInputs, Dut::kInputNames, Dut::kInputFields);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tb: %s\n", e.what());
        return 2;
    }
    std::ofstream out(result_path);
    if (!out) {
        std::fprintf(stderr, "tb: cannot write %s\n", result_path.c_str());
        return 2;
    }
    out << "# accelc trace v1 (format: src/verify/format.rs)\n";

    Dut dut(ctx.get());
    std::unique_ptr<WaveFile> wave;
    if (!trace_path.empty()) {
        ctx->traceEverOn(true);
        wave.reset(new WaveFile);
        dut.top->trace(wave.get(), 99);
        wave->open(trace_path.c_str());
    }
    uint64_t time = 0;
    auto step = [&](int clk) {
        dut.clk(clk);
        dut.top->eval();
        if (wave) wave->dump(time);
        time += 5;
    };

    // Reset: rst = 1 over a few rising edges with nothing offered, released with the clock low.
    for (int c = 0; c < Dut::kInputs; ++c) dut.drive(c, nullptr);
    dut.rst(1);
    for (int i = 0; i < 4; ++i) {
        step(0);
        step(1);
    }
    dut.rst(0);

    std::vector<size_t> next(Dut::kInputs, 0);
    uint64_t outputs = 0, edge = 0, quiet_until = 0;
    bool settled = false;
    const char* status = "done";
    try {
        for (;; ++edge) {
            bool all_in = true;
            for (int c = 0; c < Dut::kInputs; ++c) {
                bool offer = next[c] < stim.beats[c].size();
                all_in = all_in && !offer;
                dut.drive(c, offer ? &stim.beats[c][next[c]] : nullptr);
            }
            if (all_in && outputs >= stim.expect && !settled) {
                settled = true;
                quiet_until = edge + extra;
            }
            if (settled && edge >= quiet_until) break;
            if (edge >= limit) {
                status = "timeout";
                break;
            }
            step(0);  // clock low, inputs applied: ready and out_valid are what the edge will see
            for (int c = 0; c < Dut::kInputs; ++c) {
                if (next[c] < stim.beats[c].size() && dut.ready(c)) {
                    out << "taken " << Dut::kInputNames[c] << ' ' << next[c] << ' ' << edge << '\n';
                    ++next[c];
                }
            }
            if (dut.out_valid()) {
                out << "out " << edge;
                for (const std::string& w : dut.out_fields()) out << ' ' << w;
                out << '\n';
                ++outputs;
            }
            step(1);  // rising edge `edge`
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tb: %s\n", e.what());
        return 2;
    }
    step(0);
    out << "end " << status << ' ' << edge << '\n';
    if (wave) wave->close();
    dut.top->final();
    std::printf("tb: %s after %llu edges, %llu outputs (%llu expected)\n", status,
                static_cast<unsigned long long>(edge), static_cast<unsigned long long>(outputs),
                static_cast<unsigned long long>(stim.expect));
    return 0;
}

}  // namespace accelc
