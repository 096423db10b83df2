/*
 * mmap of board files (OP_MMAP). The reply says what the pages are:
 *   REGISTERS  an anonymous PROT_NONE mapping of the asked length: every load and store faults and
 *              fault.c turns it into a register request (one signal per access, no mprotect)
 *   POOL       the DMA pool memfd mapped MAP_SHARED at the reply's pool offset: the very pages the
 *              emulated DMA writes (no copy)
 * The table of mappings is read by the fault handler without locks (fixed array, entries published
 * with release stores). On a non-coherent board the emulator's protection changes make a buffer's
 * pool pages PROT_NONE while the device owns them; a per-page bitmap remembers that state so pages
 * mapped later get it too.
 */
#include "preload.h"

#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#define MAPPING_LIMIT 256

static struct mapping g_mappings[MAPPING_LIMIT];
static pthread_mutex_t g_mapping_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *g_device_owned;      /* one bit per pool page */
static uint64_t g_device_owned_bytes;

struct mapping *mapping_find(uintptr_t address)
{
    for (int i = 0; i < MAPPING_LIMIT; i++) {
        struct mapping *m = &g_mappings[i];
        if (__atomic_load_n(&m->kind, __ATOMIC_ACQUIRE) == MAPPING_FREE) continue;
        if (address >= m->start && address - m->start < m->length) return m;
    }
    return NULL;
}

void mmap_init_pool_state(void)
{
    uint64_t pages = (g_attach.pool_bytes + g_attach.page_bytes - 1) / g_attach.page_bytes;
    uint64_t bytes = (pages + 7) / 8;
    if (bytes == 0) return;
    if (g_device_owned != NULL && g_device_owned_bytes == bytes) {
        memset(g_device_owned, 0, bytes);
        return;
    }
    void *p = (void *)RAW6(SYS_mmap, 0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if ((unsigned long)p > -4096UL) attach_fatal("cannot allocate the pool page table");
    g_device_owned = p;
    g_device_owned_bytes = bytes;
}

static bool page_bit(uint64_t page) { return page / 8 < g_device_owned_bytes && (g_device_owned[page / 8] >> (page % 8)) & 1; }

static void set_page_bit(uint64_t page, bool owned)
{
    if (page / 8 >= g_device_owned_bytes) return;
    if (owned) g_device_owned[page / 8] |= (uint8_t)(1u << (page % 8));
    else g_device_owned[page / 8] &= (uint8_t)~(1u << (page % 8));
}

bool mmap_pool_page_device_owned(uint64_t offset)
{
    return g_device_owned != NULL && page_bit(offset / g_attach.page_bytes);
}

/* mprotect the part of every pool mapping that overlaps [offset, offset + length). */
static void protect_pool_range(uint64_t offset, uint64_t length, bool accessible)
{
    for (int i = 0; i < MAPPING_LIMIT; i++) {
        struct mapping *m = &g_mappings[i];
        if (__atomic_load_n(&m->kind, __ATOMIC_ACQUIRE) != MAPPING_POOL || m->generation != g_attach.generation) continue;
        uint64_t begin = offset > m->pool_offset ? offset : m->pool_offset;
        uint64_t end_a = offset + length, end_b = m->pool_offset + m->length;
        uint64_t end = end_a < end_b ? end_a : end_b;
        if (begin >= end) continue;
        uintptr_t address = m->start + (begin - m->pool_offset);
        uintptr_t page_mask = (uintptr_t)g_attach.page_bytes - 1;
        uintptr_t first = address & ~page_mask;
        uintptr_t last = (m->start + (end - m->pool_offset) + page_mask) & ~page_mask;
        RAW3(SYS_mprotect, first, last - first, accessible ? m->prot : PROT_NONE);
    }
}

void mmap_apply_protection_changes(const struct uioemu_reply *reply)
{
    uint32_t count = reply->protection_change_count;
    if (count > UIOEMU_MAX_PROTECTION_CHANGES) count = UIOEMU_MAX_PROTECTION_CHANGES;
    for (uint32_t i = 0; i < count; i++) {
        const struct uioemu_protection_change *c = &reply->protection_changes[i];
        if (c->length == 0) continue;
        uint64_t first = c->pool_offset / g_attach.page_bytes;
        uint64_t last = (c->pool_offset + c->length - 1) / g_attach.page_bytes;
        for (uint64_t page = first; page <= last; page++) set_page_bit(page, c->accessible == 0);
        protect_pool_range(c->pool_offset, c->length, c->accessible != 0);
    }
}

void mmap_pool_force_accessible(uint64_t offset, uint64_t length)
{
    uint64_t first = offset / g_attach.page_bytes, last = (offset + length - 1) / g_attach.page_bytes;
    for (uint64_t page = first; page <= last; page++) set_page_bit(page, false);
    protect_pool_range(first * g_attach.page_bytes, (last - first + 1) * g_attach.page_bytes, true);
}

static struct mapping *mapping_add(uintptr_t start, uint64_t length, int kind)
{
    pthread_mutex_lock(&g_mapping_lock);
    struct mapping *found = NULL;
    for (int i = 0; i < MAPPING_LIMIT; i++) {
        if (g_mappings[i].kind == MAPPING_FREE) {
            found = &g_mappings[i];
            found->start = start;
            found->length = length;
            found->generation = g_attach.generation;
            __atomic_store_n(&found->kind, kind, __ATOMIC_RELEASE);
            break;
        }
    }
    pthread_mutex_unlock(&g_mapping_lock);
    return found;
}

static void *map_failed(int error)
{
    errno = error;
    return MAP_FAILED;
}

static void *board_mmap(void *address, size_t length, int prot, int flags, struct board_object *object, off_t offset)
{
    if (!fd_object_current(object)) return map_failed(EIO);
    attach_check_board_thread(0);
    attach_lock();
    struct uioemu_request *rq = &g_attach.mailbox->request;
    rq->op = UIOEMU_OP_MMAP;
    rq->length = 0;
    rq->a[0] = object->handle;
    rq->a[1] = offset;
    rq->a[2] = (int64_t)length;
    rq->a[3] = prot;
    int64_t result = attach_call_locked(NULL);
    int64_t kind = g_attach.mailbox->reply.r[0], id = g_attach.mailbox->reply.r[1];
    uint64_t pool_offset = (uint64_t)g_attach.mailbox->reply.r[2], physical = (uint64_t)g_attach.mailbox->reply.r[3];
    attach_unlock();
    if (result < 0) return map_failed((int)-result);

    int fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
    void *p;
    if (kind == UIOEMU_MAPPING_REGISTERS) {
        p = REAL(mmap)(address, length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | fixed, -1, 0);
    } else if (kind == UIOEMU_MAPPING_POOL) {
        if (pool_offset + length > g_attach.pool_bytes) return map_failed(EINVAL);
        p = REAL(mmap)(address, length, prot, MAP_SHARED | fixed | (flags & MAP_POPULATE), g_attach.pool_fd, (off_t)pool_offset);
    } else {
        attach_say("uioemu attach: the emulator answered an mmap of ", object->path, " with an unknown mapping kind\n");
        return map_failed(EIO);
    }
    if (p == MAP_FAILED) return p;
    struct mapping *m = mapping_add((uintptr_t)p, length, kind == UIOEMU_MAPPING_REGISTERS ? MAPPING_REGISTERS : MAPPING_POOL);
    if (m == NULL) {
        REAL(munmap)(p, length);
        return map_failed(ENOMEM);
    }
    m->id = id;
    m->pool_offset = pool_offset;
    m->physical = physical;
    m->prot = prot;
    if (kind == UIOEMU_MAPPING_POOL && g_device_owned != NULL) {
        /* Pages the device owns right now stay inaccessible in the new mapping too. */
        for (uint64_t done = 0; done < length; done += g_attach.page_bytes)
            if (mmap_pool_page_device_owned(pool_offset + done))
                RAW3(SYS_mprotect, (uintptr_t)p + done, g_attach.page_bytes, PROT_NONE);
    }
    return p;
}

UIOEMU_EXPORT void *mmap(void *address, size_t length, int prot, int flags, int fd, off_t offset)
{
    struct board_object *object = fd >= 0 && !(flags & MAP_ANONYMOUS) ? fd_object(fd) : NULL;
    if (__builtin_expect(object == NULL, 1) ||
        (object->kind != BOARD_UIO && object->kind != BOARD_UDMABUF && object->kind != BOARD_DEVMEM))
        return REAL(mmap)(address, length, prot, flags, fd, offset);
    return board_mmap(address, length, prot, flags, object, offset);
}

UIOEMU_EXPORT void *mmap64(void *address, size_t length, int prot, int flags, int fd, off64_t offset)
{
    return mmap(address, length, prot, flags, fd, (off_t)offset);
}

UIOEMU_EXPORT int munmap(void *address, size_t length)
{
    uintptr_t begin = (uintptr_t)address, end = begin + length;
    int64_t unmapped_ids[8];
    int id_count = 0;
    pthread_mutex_lock(&g_mapping_lock);
    for (int i = 0; i < MAPPING_LIMIT; i++) {
        struct mapping *m = &g_mappings[i];
        if (m->kind == MAPPING_FREE) continue;
        uintptr_t m_end = m->start + m->length;
        if (end <= m->start || begin >= m_end) continue;
        if (begin <= m->start && end >= m_end) {
            if (m->kind == MAPPING_REGISTERS && m->generation == g_attach.generation && g_attach.connected_pid != 0 && id_count < 8) unmapped_ids[id_count++] = m->id;
            __atomic_store_n(&m->kind, MAPPING_FREE, __ATOMIC_RELEASE);
        } else if (begin <= m->start) { /* the head goes */
            uint64_t cut = end - m->start;
            if (m->kind == MAPPING_POOL) m->pool_offset += cut;
            m->physical += cut;
            m->length -= cut;
            m->start = end;
        } else if (end >= m_end) { /* the tail goes */
            m->length = begin - m->start;
        }
        /* A hole in the middle keeps the record: faults in the hole are SEGV_MAPERR, not ours. */
    }
    pthread_mutex_unlock(&g_mapping_lock);
    int rc = REAL(munmap)(address, length);
    int saved = errno;
    for (int i = 0; i < id_count; i++) {
        attach_lock();
        struct uioemu_request *rq = &g_attach.mailbox->request;
        rq->op = UIOEMU_OP_MUNMAP;
        rq->length = 0;
        rq->a[0] = unmapped_ids[i];
        attach_call_locked(NULL);
        attach_unlock();
    }
    errno = saved;
    return rc;
}
