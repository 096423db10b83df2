#!/usr/bin/env python3
"""axidma_rx.py: the receive loop of examples/c/axidma-rx.c in Python, with mmap and os.read /
os.write only (no extension module): find the UIO node by name in sysfs, map its registers, find the
u-dma-buf, reset the S2MM channel, then per transfer DA, sync_for_device, LENGTH, a blocking 4-byte
read for the interrupt, DMASR W1C, unmask, sync_for_cpu, check every byte, reuse the buffer.

Register access goes through memoryview(m).cast('I'): each access is one 32-bit load or store.

    axidma_rx.py [--uio NAME] [--udmabuf NAME] [--count N]
"""
import argparse
import mmap
import os
import struct
import sys

S2MM_DMACR, S2MM_DMASR, S2MM_DA, S2MM_DA_MSB, S2MM_LENGTH = 0x30, 0x34, 0x48, 0x4C, 0x58
RS, RESET, IOC_IRQ_EN, ERR_IRQ_EN = 1 << 0, 1 << 2, 1 << 12, 1 << 14
IOC_IRQ, ERR_IRQ, ERRORS = 1 << 12, 1 << 14, 0x7 << 4
DMA_FROM_DEVICE = 2
LITTLE = sys.byteorder == "little"


def swap32(v):
    return int.from_bytes(v.to_bytes(4, "little"), "big")


class Registers:
    """AXI registers are little-endian: swapped on a big-endian host."""

    def __init__(self, view):
        self.words = view

    def read(self, offset):
        v = self.words[offset // 4]
        return v if LITTLE else swap32(v)

    def write(self, offset, value):
        self.words[offset // 4] = value if LITTLE else swap32(value)


def read_text(path):
    with open(path) as f:
        return f.read().strip()


def find_uio(name):
    for entry in sorted(os.listdir("/sys/class/uio")):
        if entry.startswith("uio") and read_text(f"/sys/class/uio/{entry}/name") == name:
            return int(entry[3:])
    sys.exit(f"axidma_rx.py: no UIO device named {name} in /sys/class/uio")


def write_attribute(buffer_name, attribute, value):
    with open(f"/sys/class/u-dma-buf/{buffer_name}/{attribute}", "w") as f:
        f.write(f"{value}\n")


def sync(buffer_name, trigger, size):
    write_attribute(buffer_name, "sync_offset", 0)
    write_attribute(buffer_name, "sync_size", size)
    write_attribute(buffer_name, "sync_direction", DMA_FROM_DEVICE)
    write_attribute(buffer_name, trigger, 1)


def counter_bytes(offset, length):
    """The emulator's `counter` stream: little-endian 32-bit words 0, 1, 2, ...; bytes [offset, offset+length)."""
    first = offset // 4
    words = (offset + length + 3) // 4 - first
    data = struct.pack(f"<{words}I", *[(first + i) & 0xFFFFFFFF for i in range(words)])
    return data[offset % 4: offset % 4 + length]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uio", default="axi-dma-s2mm")
    parser.add_argument("--udmabuf", default="udmabuf0")
    parser.add_argument("--count", type=int, default=100)
    args = parser.parse_args()

    uio = find_uio(args.uio)
    map_size = int(read_text(f"/sys/class/uio/uio{uio}/maps/map0/size"), 16)
    page = mmap.PAGESIZE
    fd = os.open(f"/dev/uio{uio}", os.O_RDWR | os.O_CLOEXEC)
    regs_map = mmap.mmap(fd, (map_size + page - 1) // page * page, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=0)
    regs = Registers(memoryview(regs_map).cast("I"))

    physical = int(read_text(f"/sys/class/u-dma-buf/{args.udmabuf}/phys_addr"), 16)
    size = int(read_text(f"/sys/class/u-dma-buf/{args.udmabuf}/size"))
    buffer_fd = os.open(f"/dev/{args.udmabuf}", os.O_RDWR | os.O_CLOEXEC)
    buffer = mmap.mmap(buffer_fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)

    def reset():
        regs.write(S2MM_DMACR, RESET)
        while regs.read(S2MM_DMACR) & RESET:
            pass
        regs.write(S2MM_DMACR, RS | IOC_IRQ_EN | ERR_IRQ_EN)

    reset()
    one = struct.pack("=I", 1)
    os.write(fd, one)
    completions = errors = mismatches = total = offset = 0
    resync = False
    while completions < args.count:
        regs.write(S2MM_DA, physical & 0xFFFFFFFF)
        regs.write(S2MM_DA_MSB, physical >> 32)
        sync(args.udmabuf, "sync_for_device", size)
        regs.write(S2MM_LENGTH, size)
        os.read(fd, 4)  # blocks until the interrupt
        status = regs.read(S2MM_DMASR)
        regs.write(S2MM_DMASR, status & (IOC_IRQ | ERR_IRQ))  # W1C the cause, then unmask
        os.write(fd, one)
        if status & (ERR_IRQ | ERRORS):
            errors += 1
            print(f"axidma_rx.py: error interrupt (DMASR 0x{status:08x}): soft reset and re-arm", file=sys.stderr)
            reset()
            resync = True
            continue
        if not status & IOC_IRQ:
            continue
        sync(args.udmabuf, "sync_for_cpu", size)
        received = min(regs.read(S2MM_LENGTH), size)
        data = buffer[:received]
        if resync and received >= 4:
            offset = 4 * struct.unpack_from("<I", data)[0]
            resync = False
        expected = counter_bytes(offset, received)
        if data != expected:
            bad = sum(1 for a, b in zip(data, expected) if a != b)
            if mismatches == 0:
                print(f"axidma_rx.py: completion {completions}: {bad} of {received} bytes differ", file=sys.stderr)
            mismatches += bad
        offset += received
        total += received
        completions += 1
    print(f"axidma_rx.py: {completions} completions, {total} bytes, {errors} errors, {mismatches} mismatches")
    regs.words.release()
    regs_map.close()
    buffer.close()
    os.close(buffer_fd)
    os.close(fd)
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
