/*
 * axidma-rx-sg: a scatter-gather receive driver for a Xilinx AXI DMA (PG021, scatter-gather mode,
 * S2MM channel), written as userspace drivers on real boards are: the channel is a UIO device
 * (uio_pdrv_genirq), the descriptor ring and the buffers live in one u-dma-buf. Runs unchanged on a
 * board whose core is built with C_INCLUDE_SG = 1, or under
 *   uioemu attach scenarios/boards/p2020-fpga-sg.yaml -- .build/examples/axidma-rx-sg --count N
 *
 *   axidma-rx-sg [--uio NAME] [--udmabuf NAME] [--count N] [--ring N] [--threshold N]
 *
 * Layout of the u-dma-buf: the ring (N descriptors, 0x40 apart) at offset 0, then N buffers of 4 KiB
 * from offset 4096. Each descriptor word is stored with htole32: the engine reads descriptors
 * little-endian whatever the CPU is (a big-endian PowerPC that forgets gets byte-swapped pointers).
 *
 * Start: soft reset, the ring written (NXTDESC to the next, the last to the first; BUFFER_ADDRESS;
 * CONTROL = 4096; STATUS 0), sync_for_device, CURDESC while halted, DMACR (RS, IOC/Dly/Err enables,
 * IRQThreshold, IRQDelay), TAILDESC = the last descriptor. Per interrupt: a blocking read(), DMASR,
 * W1C, write(1); then from the oldest descriptor on, while STATUS has Cmplt: sync_for_cpu, check
 * every byte against the counter pattern, STATUS = 0, sync_for_device; then TAILDESC = the last
 * one recycled, which moves the engine's pause point (or resumes it). An error interrupt: soft
 * reset and the ring started again from the descriptor the engine stopped on.
 *
 * While the CPU owns the u-dma-buf (between sync_for_cpu and sync_for_device) the program touches
 * no register: under `uioemu attach` board time moves only with register accesses and waits, so the
 * engine never writes a buffer the CPU owns (the emulated DMA API tracks the whole u-dma-buf).
 */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <endian.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* S2MM registers and bits (PG021 "Scatter Gather Mode Register Address Map"; xaxidma_hw.h). */
#define S2MM_DMACR 0x30
#define S2MM_DMASR 0x34
#define S2MM_CURDESC 0x38
#define S2MM_CURDESC_MSB 0x3C
#define S2MM_TAILDESC 0x40
#define S2MM_TAILDESC_MSB 0x44
#define DMACR_RS (1u << 0)
#define DMACR_RESET (1u << 2)
#define DMACR_IOC_IRQ_EN (1u << 12)
#define DMACR_DLY_IRQ_EN (1u << 13)
#define DMACR_ERR_IRQ_EN (1u << 14)
#define DMACR_THRESHOLD_SHIFT 16
#define DMACR_DELAY_SHIFT 24
#define DMASR_HALTED (1u << 0)
#define DMASR_SG_INCLD (1u << 3)
#define DMASR_ERRORS (0x77u << 4) /* DMAIntErr, DMASlvErr, DMADecErr, SGIntErr, SGSlvErr, SGDecErr */
#define DMASR_CAUSES (0x7u << 12) /* IOC_Irq, Dly_Irq, Err_Irq */

/* Descriptor words (PG021 "Scatter Gather Descriptor"). */
#define DESC_STRIDE 0x40
#define DESC_NXTDESC 0x00
#define DESC_NXTDESC_MSB 0x04
#define DESC_BUFFER 0x08
#define DESC_BUFFER_MSB 0x0C
#define DESC_CONTROL 0x18
#define DESC_STATUS 0x1C
#define STATUS_CMPLT (1u << 31)
#define STATUS_ERRORS (0x7u << 28)
#define STATUS_RXSOF (1u << 27)
#define STATUS_LENGTH 0x03FFFFFFu
#define BUFFER_BYTES 4096u
#define BUFFERS_OFFSET 4096u
#define DMA_BIDIRECTIONAL 0

static volatile uint32_t *regs;
static volatile uint8_t *pool; /* the u-dma-buf */
static uint64_t pool_physical;
static const char *buffer_name = "udmabuf0";
static unsigned ring = 16;

static uint32_t reg_read(unsigned offset) { return le32toh(regs[offset / 4]); }
static void reg_write(unsigned offset, uint32_t value) { regs[offset / 4] = htole32(value); }

static void die(const char *what, const char *path)
{
    fprintf(stderr, "axidma-rx-sg: %s %s\n", what, path);
    exit(2);
}

static unsigned long long read_number(const char *path, const char *format)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) die("cannot open", path);
    unsigned long long value;
    if (fscanf(f, format, &value) != 1) die("cannot parse", path);
    fclose(f);
    return value;
}

static void write_attribute(const char *attribute, unsigned long long value)
{
    char path[256], text[32];
    snprintf(path, sizeof path, "/sys/class/u-dma-buf/%s/%s", buffer_name, attribute);
    int fd = open(path, O_WRONLY);
    if (fd < 0) die("cannot open", path);
    int n = snprintf(text, sizeof text, "%llu\n", value);
    if (write(fd, text, (size_t)n) != n) die("cannot write", path);
    close(fd);
}

/* u-dma-buf's sync_for_cpu / sync_for_device over [offset, offset + size). */
static void sync_range(const char *trigger, size_t offset, size_t size)
{
    write_attribute("sync_offset", offset);
    write_attribute("sync_size", size);
    write_attribute("sync_direction", DMA_BIDIRECTIONAL);
    write_attribute(trigger, 1);
}

static size_t descriptor_offset(unsigned i) { return (size_t)i * DESC_STRIDE; }
static uint64_t descriptor_address(unsigned i) { return pool_physical + descriptor_offset(i); }
static size_t buffer_offset(unsigned i) { return BUFFERS_OFFSET + (size_t)i * BUFFER_BYTES; }

static uint32_t desc_read(unsigned i, unsigned word)
{
    return le32toh(*(const volatile uint32_t *)(pool + descriptor_offset(i) + word));
}

static void desc_write(unsigned i, unsigned word, uint32_t value)
{
    *(volatile uint32_t *)(pool + descriptor_offset(i) + word) = htole32(value);
}

static int find_uio(const char *name)
{
    DIR *dir = opendir("/sys/class/uio");
    if (dir == NULL) die("cannot list", "/sys/class/uio");
    int found = -1;
    struct dirent *entry;
    while (found < 0 && (entry = readdir(dir)) != NULL) {
        int n;
        if (sscanf(entry->d_name, "uio%d", &n) != 1) continue;
        char path[300], text[128] = "";
        snprintf(path, sizeof path, "/sys/class/uio/%s/name", entry->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL) continue;
        if (fgets(text, sizeof text, f) != NULL) text[strcspn(text, "\n")] = 0;
        fclose(f);
        if (strcmp(text, name) == 0) found = n;
    }
    closedir(dir);
    return found;
}

/* Reset the core, write the whole ring (STATUS 0), then CURDESC (halted), DMACR, TAILDESC: the
   engine walks from `head` round the ring to the descriptor before it. */
static void start_ring(unsigned head, uint32_t control)
{
    reg_write(S2MM_DMACR, DMACR_RESET);
    for (int i = 0; reg_read(S2MM_DMACR) & DMACR_RESET; i++)
        if (i > 1000000) die("the reset did not complete", "(DMACR.Reset stayed set)");
    sync_range("sync_for_cpu", 0, descriptor_offset(ring));
    for (unsigned i = 0; i < ring; i++) {
        uint64_t next = descriptor_address((i + 1) % ring), buffer = pool_physical + buffer_offset(i);
        desc_write(i, DESC_NXTDESC, (uint32_t)next);
        desc_write(i, DESC_NXTDESC_MSB, (uint32_t)(next >> 32));
        desc_write(i, DESC_BUFFER, (uint32_t)buffer);
        desc_write(i, DESC_BUFFER_MSB, (uint32_t)(buffer >> 32));
        desc_write(i, DESC_CONTROL, BUFFER_BYTES);
        desc_write(i, DESC_STATUS, 0);
    }
    sync_range("sync_for_device", 0, buffer_offset(ring));
    reg_write(S2MM_CURDESC, (uint32_t)descriptor_address(head));
    reg_write(S2MM_CURDESC_MSB, (uint32_t)(descriptor_address(head) >> 32));
    reg_write(S2MM_DMACR, control);
    for (int i = 0; reg_read(S2MM_DMASR) & DMASR_HALTED; i++)
        if (i > 1000000) die("the channel did not start", "(DMASR.Halted stayed set)");
    unsigned tail = (head + ring - 1) % ring;
    reg_write(S2MM_TAILDESC, (uint32_t)descriptor_address(tail));
    reg_write(S2MM_TAILDESC_MSB, (uint32_t)(descriptor_address(tail) >> 32));
}

/* The emulator's `counter` stream: little-endian 32-bit words 0, 1, 2, ... */
static uint8_t counter_byte(uint64_t n) { return (uint8_t)((uint32_t)(n >> 2) >> (8 * (n & 3))); }

int main(int argc, char **argv)
{
    const char *uio_name = "axi-dma-s2mm";
    unsigned long count = 1000;
    unsigned threshold = 4;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--uio") == 0 && i + 1 < argc) uio_name = argv[++i];
        else if (strcmp(argv[i], "--udmabuf") == 0 && i + 1 < argc) buffer_name = argv[++i];
        else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) count = strtoul(argv[++i], NULL, 0);
        else if (strcmp(argv[i], "--ring") == 0 && i + 1 < argc) ring = (unsigned)strtoul(argv[++i], NULL, 0);
        else if (strcmp(argv[i], "--threshold") == 0 && i + 1 < argc) threshold = (unsigned)strtoul(argv[++i], NULL, 0);
        else {
            fprintf(stderr, "usage: axidma-rx-sg [--uio NAME] [--udmabuf NAME] [--count N] [--ring N] [--threshold N]\n");
            return 2;
        }
    }
    if (ring < 2 || ring > 64 || threshold < 1 || threshold > 255) die("expected --ring 2..64 and --threshold 1..255", "");

    int uio = find_uio(uio_name);
    if (uio < 0) die("no UIO device named", uio_name);
    char path[256];
    snprintf(path, sizeof path, "/sys/class/uio/uio%d/maps/map0/size", uio);
    size_t map_size = (size_t)read_number(path, "%llx");
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (map_size < S2MM_TAILDESC_MSB + 4) die("map0 is too small for the S2MM registers:", path);
    snprintf(path, sizeof path, "/dev/uio%d", uio);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) die("cannot open", path);
    size_t map_length = (map_size + page - 1) / page * page;
    regs = mmap(NULL, map_length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (regs == MAP_FAILED) die("cannot mmap", path);
    if (!(reg_read(S2MM_DMASR) & DMASR_SG_INCLD)) die("the core is not built with scatter-gather (DMASR.SGIncld = 0):", uio_name);

    snprintf(path, sizeof path, "/sys/class/u-dma-buf/%s/phys_addr", buffer_name);
    pool_physical = read_number(path, "%llx");
    snprintf(path, sizeof path, "/sys/class/u-dma-buf/%s/size", buffer_name);
    size_t pool_size = (size_t)read_number(path, "%llu");
    if (pool_size < buffer_offset(ring) || pool_physical % DESC_STRIDE) die("the u-dma-buf is too small or not 0x40-aligned:", buffer_name);
    snprintf(path, sizeof path, "/dev/%s", buffer_name);
    int buffer_fd = open(path, O_RDWR | O_CLOEXEC);
    if (buffer_fd < 0) die("cannot open", path);
    pool = mmap(NULL, pool_size, PROT_READ | PROT_WRITE, MAP_SHARED, buffer_fd, 0);
    if (pool == MAP_FAILED) die("cannot mmap", path);

    /* IRQDelay 10: a burst's tail below the threshold comes 1250 clocks after its last packet. */
    uint32_t control = DMACR_RS | DMACR_IOC_IRQ_EN | DMACR_DLY_IRQ_EN | DMACR_ERR_IRQ_EN | threshold << DMACR_THRESHOLD_SHIFT
                       | 10u << DMACR_DELAY_SHIFT;
    unsigned head = 0;
    start_ring(head, control);
    uint32_t one = 1, events = 0;
    if (write(fd, &one, 4) != 4) die("cannot unmask the interrupt of", "/dev/uioN");

    unsigned long completions = 0, errors = 0, mismatches = 0, interrupts = 0;
    unsigned long long bytes = 0, stream_offset = 0;
    int resync = 1;
    while (completions < count) {
        if (read(fd, &events, 4) != 4) die("cannot wait for the interrupt on", "/dev/uioN");
        interrupts++;
        uint32_t status = reg_read(S2MM_DMASR);
        reg_write(S2MM_DMASR, status & DMASR_CAUSES); /* W1C the cause first */
        if (write(fd, &one, 4) != 4) die("cannot unmask", "/dev/uioN");

        /* Reap: oldest first, while Cmplt is set (bounded by the ring). */
        unsigned reaped = 0, stop = ring;
        int failed = (status & DMASR_ERRORS) != 0;
        if (failed) {
            /* PG021: CURDESC names the descriptor the engine stopped on. A stale one (Cmplt left set)
               must not be taken for new data: reap only the ones before it. */
            uint64_t current = (uint64_t)reg_read(S2MM_CURDESC_MSB) << 32 | reg_read(S2MM_CURDESC);
            if (current >= pool_physical && current < descriptor_address(ring)) stop = (unsigned)((current - pool_physical) / DESC_STRIDE);
        }
        while (reaped < ring && head != stop) {
            sync_range("sync_for_cpu", descriptor_offset(head), DESC_STRIDE);
            uint32_t word = desc_read(head, DESC_STATUS);
            if (!(word & STATUS_CMPLT) || (word & STATUS_ERRORS)) {
                sync_range("sync_for_device", descriptor_offset(head), DESC_STRIDE);
                break;
            }
            uint32_t received = word & STATUS_LENGTH;
            if (received > BUFFER_BYTES) received = BUFFER_BYTES;
            sync_range("sync_for_cpu", buffer_offset(head), received);
            const volatile uint8_t *buffer = pool + buffer_offset(head);
            if ((word & STATUS_RXSOF) && received >= 4) {
                /* The counter says where a packet starts: after an error, take it from there. */
                unsigned long long start = 4ull * le32toh(*(const volatile uint32_t *)buffer);
                if (resync || start > stream_offset) stream_offset = start;
                resync = 0;
            }
            unsigned long bad = 0;
            for (uint32_t i = 0; i < received; i++)
                if (buffer[i] != counter_byte(stream_offset + i)) bad++;
            if (bad && mismatches == 0)
                fprintf(stderr, "axidma-rx-sg: descriptor %u: %lu of %u bytes differ from the counter pattern\n", head, bad, received);
            mismatches += bad;
            stream_offset += received;
            bytes += received;
            completions++;
            desc_write(head, DESC_STATUS, 0); /* recycled: the next lap's Cmplt means new data */
            sync_range("sync_for_device", buffer_offset(head), BUFFER_BYTES);
            sync_range("sync_for_device", descriptor_offset(head), DESC_STRIDE);
            head = (head + 1) % ring;
            reaped++;
        }
        if (failed) {
            errors++;
            fprintf(stderr, "axidma-rx-sg: error interrupt (DMASR 0x%08x): soft reset, ring restarted at descriptor %u\n", status, head);
            start_ring(head, control);
            resync = 1;
            continue;
        }
        if (reaped > 0) {
            /* The last recycled descriptor is the new tail: the engine goes on up to it. */
            unsigned tail = (head + ring - 1) % ring;
            reg_write(S2MM_TAILDESC, (uint32_t)descriptor_address(tail));
            reg_write(S2MM_TAILDESC_MSB, (uint32_t)(descriptor_address(tail) >> 32));
        }
    }
    printf("axidma-rx-sg: %lu completions, %llu bytes, %lu interrupts, %lu errors, %lu mismatches\n", completions, bytes, interrupts, errors,
           mismatches);
    reg_write(S2MM_DMACR, 0);
    munmap((void *)pool, pool_size);
    munmap((void *)regs, map_length);
    close(buffer_fd);
    close(fd);
    return mismatches ? 1 : 0;
}
