/*
 * Waiting for child processes. In virtual time a process holds board time while it runs; one that
 * blocks in waitpid (a shell or a wrapper running the driver as its child, Python's subprocess)
 * would stop the board for ever. So a wait that may block first tells the emulator the process is
 * detached (OP_DETACH); its next request attaches it again.
 */
#define _GNU_SOURCE
#include "preload.h"

#include <sys/resource.h>
#include <sys/wait.h>

UIOEMU_EXPORT pid_t waitpid(pid_t pid, int *status, int options)
{
    if (!(options & WNOHANG)) attach_detach();
    return REAL(waitpid)(pid, status, options);
}

UIOEMU_EXPORT pid_t wait(int *status)
{
    attach_detach();
    return REAL(wait)(status);
}

UIOEMU_EXPORT pid_t wait3(int *status, int options, struct rusage *usage)
{
    if (!(options & WNOHANG)) attach_detach();
    return REAL(wait3)(status, options, usage);
}

UIOEMU_EXPORT pid_t wait4(pid_t pid, int *status, int options, struct rusage *usage)
{
    if (!(options & WNOHANG)) attach_detach();
    return REAL(wait4)(pid, status, options, usage);
}

UIOEMU_EXPORT int waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
    if (!(options & WNOHANG)) attach_detach();
    return REAL(waitid)(type, id, info, options);
}
