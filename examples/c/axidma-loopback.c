/*
 * axidma-loopback: the most common AXI DMA test program. A buffer goes out on MM2S and comes back
 * on S2MM through the fabric (an AXI4-Stream FIFO, or a small accelerator adding a constant to
 * each 32-bit word); every word is checked. Each channel is its own UIO node with its own interrupt
 * (axi-dma-mm2s, axi-dma-s2mm), both mapping the same registers; two u-dma-buf buffers.
 *
 *   axidma-loopback [--tx NAME] [--rx NAME] [--bytes N] [--add K] [--count N]
 *
 * Under uioemu: uioemu attach p2020-fpga --loopback-add 7 -- axidma-loopback --add 7
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

/* PG021 direct register mode: MM2S at 0x00, S2MM at 0x30. */
#define MM2S_DMACR 0x00
#define MM2S_DMASR 0x04
#define MM2S_SA 0x18
#define MM2S_LENGTH 0x28
#define S2MM_DMACR 0x30
#define S2MM_DMASR 0x34
#define S2MM_DA 0x48
#define S2MM_LENGTH 0x58
#define DMACR_RS (1u << 0)
#define DMACR_RESET (1u << 2)
#define DMACR_IRQS ((1u << 12) | (1u << 14)) /* IOC_IrqEn, Err_IrqEn */
#define DMASR_IRQS (0x7u << 12)
#define DMASR_ERRORS (0x7u << 4)
#define DMASR_DONE ((1u << 12) | (1u << 14)) /* IOC_Irq, Err_Irq */

static volatile uint32_t *regs;

static uint32_t reg_read(unsigned offset) { return le32toh(regs[offset / 4]); }
static void reg_write(unsigned offset, uint32_t value) { regs[offset / 4] = htole32(value); }

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "axidma-loopback: %s %s\n", what, detail);
    exit(2);
}

static unsigned long long attribute(const char *buffer, const char *name, int base)
{
    char path[256], text[64] = "";
    snprintf(path, sizeof path, "/sys/class/u-dma-buf/%s/%s", buffer, name);
    FILE *f = fopen(path, "r");
    if (f == NULL || fgets(text, sizeof text, f) == NULL) die("cannot read", path);
    fclose(f);
    return strtoull(text, NULL, base);
}

static void sync_buffer(const char *buffer, const char *trigger, unsigned direction)
{
    const char *names[] = { "sync_offset", "sync_size", "sync_direction", trigger };
    char values[4][32];
    snprintf(values[0], sizeof values[0], "0");
    snprintf(values[1], sizeof values[1], "%llu", attribute(buffer, "size", 10));
    snprintf(values[2], sizeof values[2], "%u", direction);
    snprintf(values[3], sizeof values[3], "1");
    for (int i = 0; i < 4; i++) {
        char path[256];
        snprintf(path, sizeof path, "/sys/class/u-dma-buf/%s/%s", buffer, names[i]);
        int fd = open(path, O_WRONLY);
        if (fd < 0 || write(fd, values[i], strlen(values[i])) < 0) die("cannot write", path);
        close(fd);
    }
}

/* Opens the UIO node called `name` (found by its sysfs name). */
static int open_uio(const char *name)
{
    DIR *dir = opendir("/sys/class/uio");
    if (dir == NULL) die("cannot list", "/sys/class/uio");
    struct dirent *entry;
    int fd = -1;
    while (fd < 0 && (entry = readdir(dir)) != NULL) {
        char path[300], text[128] = "";
        snprintf(path, sizeof path, "/sys/class/uio/%s/name", entry->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL) continue;
        if (fgets(text, sizeof text, f) != NULL) text[strcspn(text, "\n")] = 0;
        fclose(f);
        if (strcmp(text, name) != 0) continue;
        snprintf(path, sizeof path, "/dev/%s", entry->d_name);
        fd = open(path, O_RDWR);
    }
    closedir(dir);
    if (fd < 0) die("no UIO node named", name);
    return fd;
}

/* Waits for the channel's transfer to end (IOC_Irq or Err_Irq): each interrupt's cause is cleared
   (W1C) and the line re-enabled. An interrupt with neither (a spurious one, or Dly_Irq) leaves the
   transfer running: it is counted and waited past, since LENGTH must not be written again while
   the channel is busy (PG021). Returns DMASR. */
static unsigned long spurious;
static uint32_t wait_done(int uio, unsigned dmasr)
{
    for (;;) {
        uint32_t count, one = 1;
        if (read(uio, &count, 4) != 4) die("read of the UIO file failed", "");
        uint32_t status = reg_read(dmasr);
        reg_write(dmasr, status & DMASR_IRQS);
        if (write(uio, &one, 4) != 4) die("write of the UIO file failed", "");
        if (status & DMASR_DONE) return status;
        spurious++;
    }
}

int main(int argc, char **argv)
{
    const char *tx = "udmabuf0", *rx = "udmabuf1";
    unsigned long count = 100, bytes = 4096;
    uint32_t add = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--tx") == 0 && i + 1 < argc) tx = argv[++i];
        else if (strcmp(argv[i], "--rx") == 0 && i + 1 < argc) rx = argv[++i];
        else if (strcmp(argv[i], "--bytes") == 0 && i + 1 < argc) bytes = strtoul(argv[++i], NULL, 0);
        else if (strcmp(argv[i], "--add") == 0 && i + 1 < argc) add = (uint32_t)strtoul(argv[++i], NULL, 0);
        else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) count = strtoul(argv[++i], NULL, 0);
        else die("usage: axidma-loopback [--tx NAME] [--rx NAME] [--bytes N] [--add K] [--count N]", "");
    }
    int mm2s = open_uio("axi-dma-mm2s"), s2mm = open_uio("axi-dma-s2mm");
    regs = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_SHARED, s2mm, 0);
    if (regs == MAP_FAILED) die("cannot map the registers", "");
    char path[64];
    snprintf(path, sizeof path, "/dev/%s", tx);
    int tx_fd = open(path, O_RDWR);
    snprintf(path, sizeof path, "/dev/%s", rx);
    int rx_fd = open(path, O_RDWR);
    if (tx_fd < 0 || rx_fd < 0) die("cannot open the u-dma-buf devices", "");
    uint32_t *tx_words = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, tx_fd, 0);
    const volatile uint32_t *rx_words = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, rx_fd, 0);
    if (tx_words == MAP_FAILED || rx_words == MAP_FAILED) die("cannot map the buffers", "");
    uint32_t tx_phys = (uint32_t)attribute(tx, "phys_addr", 16), rx_phys = (uint32_t)attribute(rx, "phys_addr", 16);

    /* DMACR.Reset resets the whole core, both channels (PG021): reset once, then start both. */
    reg_write(MM2S_DMACR, DMACR_RESET);
    for (int i = 0; reg_read(MM2S_DMACR) & DMACR_RESET; i++)
        if (i > 1000000) die("the reset did not complete", "");
    reg_write(MM2S_DMACR, DMACR_RS | DMACR_IRQS);
    reg_write(S2MM_DMACR, DMACR_RS | DMACR_IRQS);
    /* PG021: a channel runs once its DMASR.Halted reads 0; LENGTH written before starts nothing. */
    for (int i = 0; (reg_read(MM2S_DMASR) | reg_read(S2MM_DMASR)) & 1u; i++)
        if (i > 1000000) die("the channels did not start", "(DMASR.Halted stayed set after RS)");
    unsigned long mismatches = 0, errors = 0;
    for (unsigned long n = 0; n < count; n++) {
        for (unsigned long i = 0; i < bytes / 4; i++) tx_words[i] = htole32((uint32_t)(n * (bytes / 4) + i));
        sync_buffer(tx, "sync_for_device", 1);
        sync_buffer(rx, "sync_for_device", 2);
        reg_write(S2MM_DA, rx_phys); /* receive first: the loopback FIFO is small */
        reg_write(S2MM_LENGTH, (uint32_t)bytes);
        reg_write(MM2S_SA, tx_phys);
        reg_write(MM2S_LENGTH, (uint32_t)bytes);
        uint32_t sent = wait_done(mm2s, MM2S_DMASR), received = wait_done(s2mm, S2MM_DMASR);
        if ((sent | received) & DMASR_ERRORS) {
            errors++;
            break;
        }
        sync_buffer(rx, "sync_for_cpu", 2);
        uint32_t length = reg_read(S2MM_LENGTH);
        if (length != bytes) mismatches++;
        for (unsigned long i = 0; i < length / 4; i++)
            if (le32toh(rx_words[i]) != (uint32_t)(n * (bytes / 4) + i) + add) mismatches++;
    }
    printf("axidma-loopback: %lu round trips of %lu bytes, %lu errors, %lu mismatches, %lu spurious interrupts\n", count, bytes, errors,
           mismatches, spurious);
    return errors || mismatches ? 1 : 0;
}
