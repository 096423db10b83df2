// The attach protocol is all declarations (include/uioemu_attach.h); SwiftPM needs one source file.
#include "uioemu_attach.h"
_Static_assert(sizeof(struct uioemu_mailbox) <= 16384, "the mailbox fits in four pages");
