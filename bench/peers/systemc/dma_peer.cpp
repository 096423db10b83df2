// SystemC peer of uioemu's receive job (issue 9, "Peers"): written the way a SystemC user would
// model it, with modules, ports, an sc_fifo for the device FIFO and sc_events for arming and the
// interrupt. It moves no data and has no register semantics: a FIFO entry stands for one
// 4096-byte chunk.
//
//   StreamSource --sc_fifo (64 KiB = 16 chunks)--> AxiDma --interrupt--> Driver --arm(buffer)--> AxiDma
//
// - The source produces one 4096-byte chunk every 4096 B / 200 MB/s = 20.48 us and writes it into
//   the FIFO; a write into a full FIFO blocks the source (back-pressure) until the DMA takes a chunk.
// - The DMA, once armed, reads one chunk from the FIFO (waiting while it is empty), spends
//   1 us + 4096 B / (100 MHz x 4 B) = 11.24 us on the transfer, then raises its interrupt.
// - The driver waits for the interrupt, acknowledges it and arms the next of 8 ring buffers.
// Without the source the DMA always has data: it skips the FIFO read.
//
// Each run of a variant is a forked child (SystemC 2.3 elaborates and simulates once per process);
// the parent keeps the best of --repeats runs and prints one JSON object on stdout. Wall time is
// measured around sc_start() only.
//
// Usage: dma_peer [--completions N] [--repeats R] [--n-requested N]

#include <systemc>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

using namespace sc_core;

namespace {

const unsigned kChunkBytes = 4096;
const unsigned kFifoBytes = 64 * 1024;
const unsigned kRingBuffers = 8;
const double kSourceBytesPerSecond = 200e6;
const double kBusHz = 100e6;
const double kBusBytes = 4;
const double kSetupSeconds = 1e-6;

// The driver's view of the DMA: arm a buffer, wait for and acknowledge its interrupt.
struct DmaControl : virtual sc_interface {
    virtual void arm(unsigned buffer) = 0;
    virtual bool interruptPending() const = 0;
    virtual const sc_event& interruptEvent() const = 0;
    virtual void acknowledge() = 0;
};

SC_MODULE(StreamSource) {
    sc_fifo_out<unsigned> out;

    SC_CTOR(StreamSource) { SC_THREAD(produce); }

    void produce() {
        const sc_time period(kChunkBytes / kSourceBytesPerSecond, SC_SEC);
        for (unsigned sequence = 0;; ++sequence) {
            wait(period);
            out.write(sequence);  // blocks while the FIFO is full
        }
    }
};

struct AxiDma : sc_module, DmaControl {
    // Unbound in the variant without a source: the DMA then always has data.
    sc_port<sc_fifo_in_if<unsigned>, 1, SC_ZERO_OR_MORE_BOUND> stream;

    SC_HAS_PROCESS(AxiDma);
    explicit AxiDma(sc_module_name name) : sc_module(name) { SC_THREAD(transfer); }

    void arm(unsigned buffer) override {
        destination_ = buffer;
        armed_ = true;
        armEvent_.notify();
    }
    bool interruptPending() const override { return interrupt_; }
    const sc_event& interruptEvent() const override { return interruptEvent_; }
    void acknowledge() override { interrupt_ = false; }

    uint64_t transfers = 0;

private:
    void transfer() {
        const sc_time duration(kSetupSeconds + kChunkBytes / (kBusHz * kBusBytes), SC_SEC);
        for (;;) {
            while (!armed_) wait(armEvent_);
            armed_ = false;
            if (stream.size() > 0) (void)stream->read();  // waits while the FIFO is empty
            wait(duration);
            ++transfers;
            interrupt_ = true;
            interruptEvent_.notify();
        }
    }

    sc_event armEvent_, interruptEvent_;
    bool armed_ = false, interrupt_ = false;
    unsigned destination_ = 0;
};

SC_MODULE(Driver) {
    sc_port<DmaControl> dma;
    uint64_t target = 0, completions = 0;

    SC_CTOR(Driver) { SC_THREAD(serve); }

    void serve() {
        for (unsigned buffer = 0;; buffer = (buffer + 1) % kRingBuffers) {
            dma->arm(buffer);
            while (!dma->interruptPending()) wait(dma->interruptEvent());
            dma->acknowledge();
            if (++completions == target) {
                sc_stop();
                return;
            }
        }
    }
};

struct Outcome {
    uint64_t completions;
    double wallSeconds;
    double virtualSeconds;
};

Outcome simulate(bool withSource, uint64_t completions) {
    // The variant without a source has neither the source nor the FIFO: the DMA always has data.
    std::unique_ptr<sc_fifo<unsigned>> fifo;
    std::unique_ptr<StreamSource> source;
    AxiDma dma("dma");
    Driver driver("driver");
    if (withSource) {
        fifo.reset(new sc_fifo<unsigned>("fifo", kFifoBytes / kChunkBytes));
        source.reset(new StreamSource("source"));
        source->out(*fifo);
        dma.stream(*fifo);
    }
    driver.dma(dma);
    driver.target = completions;

    auto t0 = std::chrono::steady_clock::now();
    sc_start();
    auto t1 = std::chrono::steady_clock::now();
    return Outcome{driver.completions, std::chrono::duration<double>(t1 - t0).count(), sc_time_stamp().to_seconds()};
}

// Runs one variant in a child process (SystemC 2.3 simulates once per process). False on failure.
bool runVariant(bool withSource, uint64_t completions, Outcome& outcome) {
    int fds[2];
    if (pipe(fds) != 0) return false;
    std::fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) {
        close(fds[0]);
        dup2(2, 1);  // anything SystemC prints goes to stderr; stdout carries only the JSON
        sc_report_handler::set_actions(SC_INFO, SC_DO_NOTHING);  // "Simulation stopped by user."
        Outcome o = simulate(withSource, completions);
        bool sent = write(fds[1], &o, sizeof o) == (ssize_t)sizeof o;
        _exit(sent && o.completions == completions ? 0 : 1);
    }
    close(fds[1]);
    ssize_t got = read(fds[0], &outcome, sizeof outcome);
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return got == (ssize_t)sizeof outcome && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// The best (shortest) of `repeats` runs, as a JSON object; every run's wall time is listed too.
std::string measure(bool withSource, uint64_t completions, uint64_t requested, int repeats) {
    Outcome best{};
    std::string all;
    for (int i = 0; i < repeats; ++i) {
        Outcome o;
        if (!runVariant(withSource, completions, o)) {
            std::fprintf(stderr, "dma_peer: the simulation %s the source failed\n", withSource ? "with" : "without");
            std::exit(1);
        }
        if (i == 0 || o.wallSeconds < best.wallSeconds) best = o;
        char item[32];
        std::snprintf(item, sizeof item, "%s%.6f", i ? ", " : "", o.wallSeconds);
        all += item;
    }
    char text[512];
    std::snprintf(text, sizeof text,
                  "{\"completions\": %" PRIu64 ", \"wall_seconds\": %.6f, \"completions_per_second\": %.1f, "
                  "\"virtual_seconds\": %.6f, \"n_requested\": %" PRIu64 ", \"scaled_down\": %s, "
                  "\"repeats\": %d, \"wall_seconds_each\": [%s]}",
                  best.completions, best.wallSeconds, best.completions / best.wallSeconds, best.virtualSeconds, requested,
                  completions < requested ? "true" : "false", repeats, all.c_str());
    return text;
}

uint64_t parseCount(const char* text) {
    char* end = nullptr;
    unsigned long long v = std::strtoull(text, &end, 10);
    if (!end || *end != '\0' || v == 0) {
        std::fprintf(stderr, "dma_peer: not a positive count: %s\n", text);
        std::exit(2);
    }
    return v;
}

}  // namespace

int sc_main(int argc, char* argv[]) {
    uint64_t completions = 2000000, requested = 2000000;
    int repeats = 3;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--completions") && i + 1 < argc) {
            completions = parseCount(argv[++i]);
        } else if (!std::strcmp(argv[i], "--repeats") && i + 1 < argc) {
            repeats = (int)parseCount(argv[++i]);
        } else if (!std::strcmp(argv[i], "--n-requested") && i + 1 < argc) {
            requested = parseCount(argv[++i]);
        } else {
            std::fprintf(stderr, "usage: %s [--completions N] [--repeats R] [--n-requested N]\n", argv[0]);
            return 2;
        }
    }
    std::string with = measure(true, completions, requested, repeats);
    std::string without = measure(false, completions, requested, repeats);
    std::printf("{\"peer\": \"systemc\", \"version\": \"%s\", \"with_source\": %s, \"without_source\": %s}\n",
                sc_release(), with.c_str(), without.c_str());
    return 0;
}
