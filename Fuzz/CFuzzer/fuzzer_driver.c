// Declarations only (include/fuzzer_driver.h); libFuzzer itself comes with -sanitize=fuzzer.
#include "fuzzer_driver.h"
