// libevent_core for Swift. The system headers come first: if <event2/event.h> pulls them in on its
// own, the Glibc and CLibevent modules both claim `fd_set` and the build fails.
#ifndef UIOEMU_CLIBEVENT_SHIM_H
#define UIOEMU_CLIBEVENT_SHIM_H

#include <sys/types.h>
#include <sys/time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <signal.h>
#include <time.h>

#include <event2/event.h>

// eventfd(2) is not exported by Swift's Glibc module; re-export it from here.
static inline int uioemu_eventfd(unsigned int initval, int flags) {
    return eventfd(initval, flags);
}

static inline int uioemu_efd_nonblock(void) { return EFD_NONBLOCK; }
static inline int uioemu_efd_cloexec(void) { return EFD_CLOEXEC; }

#endif
