// libfdt (Debian's libfdt-dev, which ships no pkg-config file) for Swift. The header fields are
// read through macros (fdt_magic, fdt_totalsize), which Swift cannot import: the inline functions
// below stand in for them.
#ifndef UIOEMU_CFDT_SHIM_H
#define UIOEMU_CFDT_SHIM_H

#include <libfdt.h>

static inline uint32_t uioemu_fdt_magic(const void *fdt) { return fdt_magic(fdt); }
static inline uint32_t uioemu_fdt_totalsize(const void *fdt) { return fdt_totalsize(fdt); }
static inline uint32_t uioemu_fdt_version(const void *fdt) { return fdt_version(fdt); }
static inline uint32_t uioemu_fdt_header_size(void) { return (uint32_t)sizeof(struct fdt_header); }

#endif
