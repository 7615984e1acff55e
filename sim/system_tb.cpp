// system_tb.cpp: the hand-written Verilator testbench of every accelc system top (`<name>_system`,
// built with --prefix Vdut). accelc prepends `#define ACCELC_TDATA_BITS <stream_bits>`.
//
// It drives the AXI ports only: AXI4-Lite writes GIE = 1, IER = 1, CTRL = START (bready held 1),
// the input frames on s_axis with the idle gaps of the stimulus, m_axis_tready per edge from the
// stimulus (1 past its end), and waits for `irq`; then it reads the status registers over AXI4-Lite.
// Edges are numbered from 0, the first rising edge with aresetn = 1 (reset: 4 edges low).
//
// Stimulus (+stim=FILE):   `beats N`, N lines `<gap> <tlast> <hex tdata>`, `ready M`, one line of M 0/1
// Result (+result=FILE):   `write <addr> <edge>` per accepted AXI4-Lite write, `in <i> <edge>` per
//                          taken input beat, `out <edge> <tlast> <hex>` per output beat, `irq <edge>`
//                          (the edge after which irq was first 1), `reg <NAME> <value>` per register,
//                          `end done|timeout <edge>`.
// Plusargs: +stim +result +limit=EDGES [+trace=FILE]
#include <verilated.h>
#include "Vdut.h"
#include "accelc_tb.h"

namespace {

struct In {
    unsigned gap;
    int last;
    std::string hex;
};

const std::pair<unsigned, unsigned> kSetupWrites[] = {{0x04, 1}, {0x08, 1}, {0x00, 1}};
const std::pair<const char*, unsigned> kReads[] = {{"CTRL", 0x00},      {"ISR", 0x0C},   {"CYCLES_LO", 0x10},
                                                   {"CYCLES_HI", 0x14}, {"ERROR", 0x18}, {"ERROR_JOB", 0x1C},
                                                   {"JOBS_DONE", 0x20}, {"ID", 0x24}};

}  // namespace

int main(int argc, char** argv) {
    const std::unique_ptr<VerilatedContext> ctx{new VerilatedContext};
    ctx->commandArgs(argc, argv);
    const std::string stim_path = accelc::plusarg(ctx.get(), "stim");
    const std::string result_path = accelc::plusarg(ctx.get(), "result");
    const std::string limit_s = accelc::plusarg(ctx.get(), "limit");
    const std::string trace_path = accelc::plusarg(ctx.get(), "trace");
    if (stim_path.empty() || result_path.empty() || limit_s.empty()) {
        std::fprintf(stderr, "usage: %s +stim=FILE +result=FILE +limit=EDGES [+trace=FILE]\n", argv[0]);
        return 2;
    }
    const uint64_t limit = std::stoull(limit_s);
    std::vector<In> ins;
    std::string ready;
    {
        std::ifstream in(stim_path);
        std::string word;
        size_t n = 0, m = 0;
        if (!(in >> word >> n) || word != "beats") {
            std::fprintf(stderr, "tb: %s: expected `beats N`\n", stim_path.c_str());
            return 2;
        }
        for (size_t i = 0; i < n; ++i) {
            In b;
            if (!(in >> b.gap >> b.last >> b.hex)) {
                std::fprintf(stderr, "tb: %s: beat %zu unreadable\n", stim_path.c_str(), i);
                return 2;
            }
            ins.push_back(b);
        }
        if (!(in >> word >> m) || word != "ready") {
            std::fprintf(stderr, "tb: %s: expected `ready M`\n", stim_path.c_str());
            return 2;
        }
        if (m > 0 && !(in >> ready)) ready.clear();
        if (ready.size() != m) {
            std::fprintf(stderr, "tb: %s: ready pattern has %zu of %zu edges\n", stim_path.c_str(), ready.size(), m);
            return 2;
        }
    }
    std::ofstream out(result_path);
    if (!out) {
        std::fprintf(stderr, "tb: cannot write %s\n", result_path.c_str());
        return 2;
    }
    out << "# accelc system trace v1 (format: sim/system_tb.cpp)\n";

    Vdut* top = new Vdut{ctx.get()};
    std::unique_ptr<accelc::WaveFile> wave;
    if (!trace_path.empty()) {
        ctx->traceEverOn(true);
        wave.reset(new accelc::WaveFile);
        top->trace(wave.get(), 99);
        wave->open(trace_path.c_str());
    }
    uint64_t time = 0;
    auto step = [&](int clk) {
        top->aclk = clk;
        top->eval();
        if (wave) wave->dump(time);
        time += 5;
    };
    const unsigned W = ACCELC_TDATA_BITS;
    top->aresetn = 0;
    top->s_axis_tvalid = 0;
    top->s_axis_tlast = 0;
    top->m_axis_tready = 0;
    top->s_axi_awvalid = 0;
    top->s_axi_wvalid = 0;
    top->s_axi_wstrb = 0xf;
    top->s_axi_bready = 1;
    top->s_axi_arvalid = 0;
    top->s_axi_rready = 1;
    for (int i = 0; i < 4; ++i) {
        step(0);
        step(1);
    }
    top->aresetn = 1;

    size_t writes = 0, next = 0;
    uint64_t offer_from = ins.empty() ? 0 : ins[0].gap;
    uint64_t edge = 0;
    const char* status = "timeout";
    try {
        for (; edge < limit; ++edge) {
            // inputs before the edge
            const bool wr = writes < sizeof(kSetupWrites) / sizeof(kSetupWrites[0]);
            top->s_axi_awvalid = wr;
            top->s_axi_wvalid = wr;
            top->s_axi_awaddr = wr ? kSetupWrites[writes].first : 0;
            top->s_axi_wdata = wr ? kSetupWrites[writes].second : 0;
            const bool offer = next < ins.size() && edge >= offer_from;
            top->s_axis_tvalid = offer;
            top->s_axis_tlast = offer ? ins[next].last : 0;
            accelc::set_port(top->s_axis_tdata, W, offer ? ins[next].hex : accelc::zero());
            top->m_axis_tready = edge < ready.size() ? ready[edge] == '1' : 1;
            step(0);
            // what the edge will see
            if (wr && top->s_axi_awready && top->s_axi_wready) {
                out << "write " << kSetupWrites[writes].first << ' ' << edge << '\n';
                ++writes;
            }
            if (offer && top->s_axis_tready) {
                out << "in " << next << ' ' << edge << '\n';
                ++next;
                if (next < ins.size()) offer_from = edge + 1 + ins[next].gap;
            }
            if (top->m_axis_tvalid && top->m_axis_tready) {
                out << "out " << edge << ' ' << int(top->m_axis_tlast) << ' '
                    << accelc::get_port(top->m_axis_tdata, W) << '\n';
            }
            step(1);  // rising edge `edge`
            if (top->irq) {
                out << "irq " << edge << '\n';
                status = "done";
                break;
            }
        }
        // status registers over AXI4-Lite (reads: araddr held until arready, rready held 1)
        top->s_axis_tvalid = 0;
        for (const auto& r : kReads) {
            top->s_axi_arvalid = 1;
            top->s_axi_araddr = r.second;
            unsigned guard = 0;
            for (;;) {
                step(0);
                const bool accepted = top->s_axi_arready;
                step(1);
                if (accepted) break;
                if (++guard > 16) throw std::runtime_error("AXI4-Lite read not accepted");
            }
            top->s_axi_arvalid = 0;
            step(0);
            if (!top->s_axi_rvalid) throw std::runtime_error("AXI4-Lite read data missing");
            out << "reg " << r.first << ' ' << top->s_axi_rdata << '\n';
            step(1);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tb: %s\n", e.what());
        return 2;
    }
    step(0);
    out << "end " << status << ' ' << edge << '\n';
    if (wave) wave->close();
    top->final();
    delete top;
    std::printf("tb: %s after %llu edges\n", status, static_cast<unsigned long long>(edge));
    return 0;
}
