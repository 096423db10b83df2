/*
 * axidma-rx: a receive driver for a Xilinx AXI DMA (PG021, direct register mode, S2MM channel),
 * written the way userspace drivers on real boards are: the channel is a UIO device
 * (uio_pdrv_genirq), the buffer a u-dma-buf. Runs unchanged on a board or under `uioemu attach`.
 *
 *   axidma-rx [--uio NAME] [--udmabuf NAME] [--count N]
 *
 * Per transfer: DA, sync_for_device, LENGTH; a blocking read() for the interrupt; DMASR, W1C,
 * write(1) to unmask; sync_for_cpu; LENGTH gives the byte count; every byte is checked against the
 * stream's counter pattern; the buffer is reused. An error interrupt: soft reset and re-arm.
 * Built twice more with one define each, to show what the emulator finds:
 *   -DBUG_UNMASK_FIRST  unmask (write 1) before clearing the cause: the level interrupt fires again
 *   -DBUG_NO_SYNC       read the buffer without sync_for_cpu: stale data on a non-coherent board
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

/* S2MM registers and bits (PG021 "Direct Register Mode Register Address Map"). */
#define S2MM_DMACR 0x30
#define S2MM_DMASR 0x34
#define S2MM_DA 0x48
#define S2MM_DA_MSB 0x4C
#define S2MM_LENGTH 0x58
#define DMACR_RS (1u << 0)
#define DMACR_RESET (1u << 2)
#define DMACR_IOC_IRQ_EN (1u << 12)
#define DMACR_ERR_IRQ_EN (1u << 14)
#define DMASR_HALTED (1u << 0)
#define DMASR_ERRORS (0x7u << 4) /* DMAIntErr, DMASlvErr, DMADecErr */
#define DMASR_IOC_IRQ (1u << 12)
#define DMASR_ERR_IRQ (1u << 14)
#define DMA_FROM_DEVICE 2

static volatile uint32_t *regs;

/* AXI registers are little-endian; the conversions make this right on a big-endian PowerPC too. */
static uint32_t reg_read(unsigned offset) { return le32toh(regs[offset / 4]); }
static void reg_write(unsigned offset, uint32_t value) { regs[offset / 4] = htole32(value); }

static void die(const char *what, const char *path)
{
    fprintf(stderr, "axidma-rx: %s %s\n", what, path);
    exit(2);
}

static unsigned long long read_number(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) die("cannot open", path);
    unsigned long long value;
    if (fscanf(f, "%llx", &value) != 1) die("cannot parse", path);
    fclose(f);
    return value;
}

static void write_attribute(const char *buffer_name, const char *attribute, unsigned long long value)
{
    char path[256], text[32];
    snprintf(path, sizeof path, "/sys/class/u-dma-buf/%s/%s", buffer_name, attribute);
    int fd = open(path, O_WRONLY);
    if (fd < 0) die("cannot open", path);
    int n = snprintf(text, sizeof text, "%llu\n", value);
    if (write(fd, text, (size_t)n) != n) die("cannot write", path);
    close(fd);
}

static void sync_buffer(const char *buffer_name, const char *trigger, size_t size)
{
    write_attribute(buffer_name, "sync_offset", 0);
    write_attribute(buffer_name, "sync_size", size);
    write_attribute(buffer_name, "sync_direction", DMA_FROM_DEVICE);
    write_attribute(buffer_name, trigger, 1);
}

/* The UIO node whose /sys/class/uio/uioN/name is `name`: N, or -1. */
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

static void reset_channel(void)
{
    reg_write(S2MM_DMACR, DMACR_RESET);
    for (int i = 0; reg_read(S2MM_DMACR) & DMACR_RESET; i++)
        if (i > 1000000) die("the reset did not complete", "(DMACR.Reset stayed set)");
    reg_write(S2MM_DMACR, DMACR_RS | DMACR_IOC_IRQ_EN | DMACR_ERR_IRQ_EN);
    /* PG021: the channel runs once DMASR.Halted reads 0; a LENGTH written before that starts
       nothing (Linux xilinx_dma_start polls it the same way). */
    for (int i = 0; reg_read(S2MM_DMASR) & DMASR_HALTED; i++)
        if (i > 1000000) die("the channel did not start", "(DMASR.Halted stayed set after RS)");
}

/* The emulator's `counter` stream: little-endian 32-bit words 0, 1, 2, ...; byte n of the stream
   is byte n % 4 of word n / 4 (Sources/Devices/Streams/StreamPattern.swift). */
static uint8_t counter_byte(uint64_t n) { return (uint8_t)((uint32_t)(n >> 2) >> (8 * (n & 3))); }

static uint32_t le32_at(const volatile uint8_t *b) { return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24; }

/* Where in the stream a packet of `n` bytes starts, from its bytes: after a short packet the stream
   is no longer word-aligned, so the first whole counter word may be 1 to 3 bytes in. Two
   consecutive words w, w + 1 at byte r say the packet starts at 4w - r (at any other r the bytes
   of two counters mix, and the second word is the first plus a power of two, never plus one).
   0 when the packet is too short to tell. */
static int packet_start(const volatile uint8_t *b, uint32_t n, unsigned long long *start)
{
    for (uint32_t r = 0; r < 4 && r + 8 <= n; r++) {
        uint32_t w = le32_at(b + r);
        if (le32_at(b + r + 4) == w + 1) {
            *start = 4ull * w - r;
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *uio_name = "axi-dma-s2mm", *buffer_name = "udmabuf0";
    unsigned long count = 1000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--uio") == 0 && i + 1 < argc) uio_name = argv[++i];
        else if (strcmp(argv[i], "--udmabuf") == 0 && i + 1 < argc) buffer_name = argv[++i];
        else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) count = strtoul(argv[++i], NULL, 0);
        else {
            fprintf(stderr, "usage: axidma-rx [--uio NAME] [--udmabuf NAME] [--count N]\n");
            return 2;
        }
    }

    int uio = find_uio(uio_name);
    if (uio < 0) die("no UIO device named", uio_name);
    char path[256];
    snprintf(path, sizeof path, "/sys/class/uio/uio%d/maps/map0/size", uio);
    size_t map_size = (size_t)read_number(path);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (map_size < S2MM_LENGTH + 4) die("map0 is too small for the S2MM registers:", path);
    snprintf(path, sizeof path, "/dev/uio%d", uio);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) die("cannot open", path);
    size_t map_length = (map_size + page - 1) / page * page;
    regs = mmap(NULL, map_length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0); /* map 0: offset 0 */
    if (regs == MAP_FAILED) die("cannot mmap", path);

    snprintf(path, sizeof path, "/sys/class/u-dma-buf/%s/phys_addr", buffer_name);
    uint64_t buffer_physical = read_number(path);
    snprintf(path, sizeof path, "/sys/class/u-dma-buf/%s/size", buffer_name);
    FILE *f = fopen(path, "r");
    unsigned long long buffer_size_value = 0;
    if (f == NULL || fscanf(f, "%llu", &buffer_size_value) != 1) die("cannot read", path);
    fclose(f);
    size_t buffer_size = (size_t)buffer_size_value;
    snprintf(path, sizeof path, "/dev/%s", buffer_name);
    int buffer_fd = open(path, O_RDWR | O_CLOEXEC);
    if (buffer_fd < 0) die("cannot open", path);
    const volatile uint8_t *buffer = mmap(NULL, buffer_size, PROT_READ | PROT_WRITE, MAP_SHARED, buffer_fd, 0);
    if (buffer == MAP_FAILED) die("cannot mmap", path);

    reset_channel();
    uint32_t one = 1, events = 0;
    if (write(fd, &one, 4) != 4) die("cannot unmask the interrupt of", "/dev/uioN");

    unsigned long completions = 0, errors = 0, mismatches = 0, gaps = 0;
    unsigned long long bytes = 0, stream_offset = 0, lost = 0;
    int resync = 0, armed = 0;
    while (completions < count) {
        /* Armed once per transfer: an interrupt without IOC (a spurious one, Dly_Irq) leaves the
           transfer running, and LENGTH must not be written again while it is (PG021). */
        if (!armed) {
            reg_write(S2MM_DA, (uint32_t)buffer_physical);
            reg_write(S2MM_DA_MSB, (uint32_t)(buffer_physical >> 32));
            sync_buffer(buffer_name, "sync_for_device", buffer_size);
            reg_write(S2MM_LENGTH, (uint32_t)buffer_size);
            armed = 1;
        }

        if (read(fd, &events, 4) != 4) die("cannot wait for the interrupt on", "/dev/uioN");
        uint32_t status = reg_read(S2MM_DMASR);
#ifdef BUG_UNMASK_FIRST
        if (write(fd, &one, 4) != 4) die("cannot unmask", "/dev/uioN");
        reg_write(S2MM_DMASR, status & (DMASR_IOC_IRQ | DMASR_ERR_IRQ));
#else
        reg_write(S2MM_DMASR, status & (DMASR_IOC_IRQ | DMASR_ERR_IRQ)); /* W1C the cause first */
        if (write(fd, &one, 4) != 4) die("cannot unmask", "/dev/uioN");
#endif
        if (status & (DMASR_ERR_IRQ | DMASR_ERRORS)) {
            errors++;
            fprintf(stderr, "axidma-rx: error interrupt (DMASR 0x%08x): soft reset and re-arm\n", status);
            reset_channel();
            armed = 0;
            resync = 1; /* the failed packet's bytes are gone: take the stream offset from the next one */
            continue;
        }
        if (!(status & DMASR_IOC_IRQ)) continue; /* not a completion: the transfer is still armed */
        armed = 0;
#ifndef BUG_NO_SYNC
        sync_buffer(buffer_name, "sync_for_cpu", buffer_size);
#endif
        uint32_t received = reg_read(S2MM_LENGTH);
        if (received > buffer_size) received = (uint32_t)buffer_size;
        /* The counter says where this packet sits in the stream: a packet that starts later than
           expected means the device dropped bytes before it (a full FIFO, while nobody had a
           transfer armed). Count the gap, and check the packet from where it really starts. */
        unsigned long long start;
        if (packet_start(buffer, received, &start)) {
            if (!resync && start > stream_offset) {
                gaps++;
                lost += start - stream_offset;
            }
            if (resync || start > stream_offset) stream_offset = start;
            resync = 0;
        } else if (resync) {
            /* Too short to tell where it starts after an error: count it, check the next one. */
            bytes += received;
            completions++;
            continue;
        }
        unsigned long bad = 0;
        for (uint32_t i = 0; i < received; i++)
            if (buffer[i] != counter_byte(stream_offset + i)) bad++;
        if (bad && mismatches == 0)
            fprintf(stderr, "axidma-rx: completion %lu: %lu of %u bytes differ from the counter pattern\n", completions, bad, received);
        mismatches += bad;
        stream_offset += received;
        bytes += received;
        completions++;
    }
    printf("axidma-rx: %lu completions, %llu bytes, %lu errors, %lu mismatches, %llu bytes lost in %lu gaps\n", completions, bytes,
           errors, mismatches, lost, gaps);
    munmap((void *)buffer, buffer_size);
    munmap((void *)regs, map_length);
    close(buffer_fd);
    close(fd);
    return mismatches ? 1 : 0;
}
