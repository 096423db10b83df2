/*
 * axidma-rx-devmem: the receive loop of axidma-rx the way many vendor examples write it: no UIO, no
 * u-dma-buf, no interrupt and no cache sync. The AXI DMA registers and a buffer inside the reserved
 * DMA region are mapped through /dev/mem at physical addresses given on the command line, and the
 * driver polls DMASR for IOC_Irq. (On a non-coherent board its reads of the buffer are stale: the
 * emulator reports them, which is the point.)
 *
 *   axidma-rx-devmem --regs 0x40400000 --buffer 0x38000000 --size 65536 [--count N]
 */
#define _DEFAULT_SOURCE
#include <endian.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define S2MM_DMACR 0x30
#define S2MM_DMASR 0x34
#define S2MM_DA 0x48
#define S2MM_DA_MSB 0x4C
#define S2MM_LENGTH 0x58
#define DMACR_RS (1u << 0)
#define DMACR_RESET (1u << 2)
#define DMASR_ERRORS (0x7u << 4)
#define DMASR_IOC_IRQ (1u << 12)
#define DMASR_ERR_IRQ (1u << 14)
#define REGISTER_WINDOW 0x10000

static volatile uint32_t *regs;
static uint32_t reg_read(unsigned offset) { return le32toh(regs[offset / 4]); }
static void reg_write(unsigned offset, uint32_t value) { regs[offset / 4] = htole32(value); }

static void reset_channel(void)
{
    reg_write(S2MM_DMACR, DMACR_RESET);
    for (int i = 0; reg_read(S2MM_DMACR) & DMACR_RESET; i++)
        if (i > 1000000) {
            fprintf(stderr, "axidma-rx-devmem: the reset did not complete\n");
            exit(2);
        }
    reg_write(S2MM_DMACR, DMACR_RS); /* no interrupt: the status is polled */
    /* PG021: the channel runs once DMASR.Halted (bit 0) reads 0; LENGTH written before starts nothing. */
    for (int i = 0; reg_read(S2MM_DMASR) & 1u; i++)
        if (i > 1000000) {
            fprintf(stderr, "axidma-rx-devmem: the channel did not start (DMASR.Halted stayed set after RS)\n");
            exit(2);
        }
}

static uint8_t counter_byte(uint64_t n) { return (uint8_t)((uint32_t)(n >> 2) >> (8 * (n & 3))); }

int main(int argc, char **argv)
{
    unsigned long long regs_physical = 0, buffer_physical = 0, size = 0;
    unsigned long count = 1000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--regs") == 0) regs_physical = strtoull(argv[i + 1], NULL, 0);
        else if (strcmp(argv[i], "--buffer") == 0) buffer_physical = strtoull(argv[i + 1], NULL, 0);
        else if (strcmp(argv[i], "--size") == 0) size = strtoull(argv[i + 1], NULL, 0);
        else if (strcmp(argv[i], "--count") == 0) count = strtoul(argv[i + 1], NULL, 0);
        else break;
    }
    if (regs_physical == 0 || buffer_physical == 0 || size == 0 || argc % 2 == 0) {
        fprintf(stderr, "usage: axidma-rx-devmem --regs PHYS --buffer PHYS --size BYTES [--count N]\n");
        return 2;
    }
    int mem = open("/dev/mem", O_RDWR | O_SYNC | O_CLOEXEC);
    if (mem < 0) {
        perror("axidma-rx-devmem: /dev/mem");
        return 2;
    }
    regs = mmap(NULL, REGISTER_WINDOW, PROT_READ | PROT_WRITE, MAP_SHARED, mem, (off_t)regs_physical);
    const volatile uint8_t *buffer = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mem, (off_t)buffer_physical);
    if (regs == MAP_FAILED || buffer == MAP_FAILED) {
        perror("axidma-rx-devmem: mmap /dev/mem");
        return 2;
    }
    reset_channel();
    unsigned long completions = 0, errors = 0, mismatches = 0;
    unsigned long long bytes = 0, stream_offset = 0;
    int resync = 0;
    while (completions < count) {
        reg_write(S2MM_DA, (uint32_t)buffer_physical);
        reg_write(S2MM_DA_MSB, (uint32_t)(buffer_physical >> 32));
        reg_write(S2MM_LENGTH, (uint32_t)size);
        uint32_t status;
        while (!((status = reg_read(S2MM_DMASR)) & (DMASR_IOC_IRQ | DMASR_ERR_IRQ | DMASR_ERRORS))) {
        }
        reg_write(S2MM_DMASR, status & (DMASR_IOC_IRQ | DMASR_ERR_IRQ));
        if (status & (DMASR_ERR_IRQ | DMASR_ERRORS)) {
            errors++;
            fprintf(stderr, "axidma-rx-devmem: DMA error (DMASR 0x%08x): soft reset and re-arm\n", status);
            reset_channel();
            resync = 1;
            continue;
        }
        uint32_t received = reg_read(S2MM_LENGTH);
        if (received > size) received = (uint32_t)size;
        if (resync && received >= 4) {
            stream_offset = 4ull * le32toh(*(const volatile uint32_t *)buffer);
            resync = 0;
        }
        unsigned long bad = 0;
        for (uint32_t i = 0; i < received; i++)
            if (buffer[i] != counter_byte(stream_offset + i)) bad++;
        if (bad && mismatches == 0)
            fprintf(stderr, "axidma-rx-devmem: completion %lu: %lu of %u bytes differ from the counter pattern\n", completions, bad, received);
        mismatches += bad;
        stream_offset += received;
        bytes += received;
        completions++;
    }
    printf("axidma-rx-devmem: %lu completions, %llu bytes, %lu errors, %lu mismatches\n", completions, bytes, errors, mismatches);
    return mismatches ? 1 : 0;
}
