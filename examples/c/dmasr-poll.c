/*
 * dmasr-poll: reads S2MM_DMASR N times in a loop, as a driver that polls instead of waiting for
 * the interrupt does. Under uioemu each read is one trapped register access (the benchmark's
 * per-access row measures exactly that); on a board it measures the bus.
 *
 *   dmasr-poll [--uio NAME] [--count N]
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

int main(int argc, char **argv)
{
    const char *node = "/dev/uio0";
    unsigned long count = 100000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--uio") == 0 && i + 1 < argc) node = argv[++i];
        else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) count = strtoul(argv[++i], NULL, 0);
        else {
            fprintf(stderr, "usage: dmasr-poll [--uio /dev/uioN] [--count N]\n");
            return 2;
        }
    }
    int fd = open(node, O_RDWR);
    if (fd < 0) {
        perror(node);
        return 2;
    }
    volatile uint32_t *regs = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (regs == MAP_FAILED) {
        perror("mmap");
        return 2;
    }
    uint32_t halted = 0;
    for (unsigned long i = 0; i < count; i++) halted += le32toh(regs[0x34 / 4]) & 1; /* S2MM_DMASR.Halted */
    printf("dmasr-poll: %lu reads, Halted in %u\n", count, halted);
    return 0;
}
