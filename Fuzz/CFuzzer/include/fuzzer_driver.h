// libFuzzer as a library (https://llvm.org/docs/LibFuzzer.html, "Using libFuzzer as a library"):
// the fuzz targets' main calls this with their entry point. SwiftPM links an executable target's
// main under its own name, so libFuzzer's main() cannot be the program's; this is.
#ifndef UIOEMU_FUZZER_DRIVER_H
#define UIOEMU_FUZZER_DRIVER_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));

#endif
