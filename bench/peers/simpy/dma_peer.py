#!/usr/bin/env python3
"""SimPy peer of uioemu's receive job (issue 9, "Peers"), the same model as the SystemC peer.

  source --Store (64 KiB = 16 chunks)--> dma --interrupt--> driver --arm(buffer)--> dma

- The source produces one 4096-byte chunk every 4096 B / 200 MB/s = 20.48 us and puts it into the
  FIFO (a simpy.Store of capacity 16); a put into a full store waits (back-pressure).
- The DMA, once armed, gets one chunk from the FIFO (waiting while it is empty), spends
  1 us + 4096 B / (100 MHz x 4 B) = 11.24 us on the transfer, then raises its interrupt.
- The driver waits for the interrupt, copies the completed 4 KiB ring buffer (a bytes copy of a
  bytearray) and arms the next of 8 ring buffers.
Without the source the DMA always has data: it skips the FIFO.

Time unit: nanoseconds. Wall time is measured around env.run() only; the best of --repeats runs
per variant is kept. Prints one JSON object on stdout.
"""

import argparse
import json
import sys
import time

import simpy

CHUNK_BYTES = 4096
FIFO_BYTES = 64 * 1024
RING_BUFFERS = 8
SOURCE_PERIOD_NS = CHUNK_BYTES / 200e6 * 1e9            # 20480 ns
TRANSFER_NS = 1000 + CHUNK_BYTES / (100e6 * 4) * 1e9     # 1 us setup + 10240 ns


class Dma:
    """The DMA engine: armed by the driver, takes a chunk from the FIFO, interrupts when done."""

    def __init__(self, env, fifo):
        self.env = env
        self.fifo = fifo
        self.armed = env.event()
        self.interrupt = env.event()
        self.destination = None
        self.transfers = 0
        env.process(self.run())

    def arm(self, buffer):
        self.destination = buffer
        self.armed.succeed()

    def run(self):
        env = self.env
        while True:
            yield self.armed
            self.armed = env.event()
            if self.fifo is not None:
                yield self.fifo.get()  # waits while the FIFO is empty
            yield env.timeout(TRANSFER_NS)
            self.transfers += 1
            done, self.interrupt = self.interrupt, env.event()
            done.succeed()


def source(env, fifo):
    sequence = 0
    while True:
        yield env.timeout(SOURCE_PERIOD_NS)
        yield fifo.put(sequence)  # waits while the FIFO is full
        sequence += 1


def driver(env, dma, ring, completions, finished):
    received = 0
    buffer = 0
    copied = 0
    while True:
        interrupt = dma.interrupt
        dma.arm(ring[buffer])
        yield interrupt
        data = bytes(dma.destination)  # the driver copies the completed 4 KiB buffer out
        copied += len(data)
        received += 1
        if received == completions:
            finished.succeed(copied)
            return
        buffer = (buffer + 1) % RING_BUFFERS


def simulate(with_source, completions):
    env = simpy.Environment()
    fifo = None
    if with_source:
        fifo = simpy.Store(env, capacity=FIFO_BYTES // CHUNK_BYTES)
        env.process(source(env, fifo))
    dma = Dma(env, fifo)
    ring = [bytearray(CHUNK_BYTES) for _ in range(RING_BUFFERS)]
    finished = env.event()
    env.process(driver(env, dma, ring, completions, finished))
    t0 = time.perf_counter()
    copied = env.run(until=finished)
    wall = time.perf_counter() - t0
    assert dma.transfers == completions and copied == completions * CHUNK_BYTES
    return completions, wall, env.now / 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--completions", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3, help="runs per variant; the best is kept")
    parser.add_argument("--n-requested", type=int, default=200_000)
    args = parser.parse_args()
    result = {"peer": "simpy", "version": simpy.__version__,
              "python": "%d.%d.%d" % sys.version_info[:3], "interpreter": sys.executable}
    for name, with_source in (("with_source", True), ("without_source", False)):
        runs = [simulate(with_source, args.completions) for _ in range(max(args.repeats, 1))]
        n, wall, virtual = min(runs, key=lambda run: run[1])
        result[name] = {"completions": n, "wall_seconds": round(wall, 6),
                        "completions_per_second": round(n / wall, 1),
                        "virtual_seconds": round(virtual, 6),
                        "n_requested": args.n_requested,
                        "scaled_down": n < args.n_requested,
                        "repeats": len(runs),
                        "wall_seconds_each": [round(run[1], 6) for run in runs]}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
