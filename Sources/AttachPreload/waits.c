/*
 * Waits in virtual time: poll, ppoll, select, pselect, epoll_wait, epoll_pwait, epoll_pwait2, and
 * emulated timerfds (libevent with EVENT_BASE_FLAG_PRECISE_TIMER arms a timerfd inside its epoll set).
 *
 * A wait looks at real fds natively with timeout 0 and at board fds through mailbox->readable[]
 * (UIO) or board time (timerfds). When nothing is ready and the timeout is not 0 it sends OP_WAIT with
 * the UIO handles involved and the earliest deadline (the timeout in board time, the timerfds'
 * expiries), then looks again. A wait with no board fds and an infinite timeout passes through
 * natively (it waits for real fds only); so does everything in real time, where a UIO fd is the
 * emulator's readiness eventfd and timerfds are the kernel's. Real fds are only looked at between
 * board waits: virtual time does not wait for the outside world.
 */
#include "preload.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/timerfd.h>
#include <time.h>

#define NS_PER_SECOND 1000000000ll
#define EPOCH_NS (UIOEMU_REALTIME_EPOCH_SECONDS * NS_PER_SECOND)
#define WAIT_HANDLES_MAX (UIOEMU_PAYLOAD_BYTES / 4)

/* ---- timerfds ---- */

static bool is_realtime_clock(int clock)
{
    return clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_ALARM;
}

static uint64_t timer_expirations(const struct board_object *t, int64_t now)
{
    if (t->deadline_ns == 0 || now < t->deadline_ns) return 0;
    return 1 + (t->interval_ns > 0 ? (uint64_t)((now - t->deadline_ns) / t->interval_ns) : 0);
}

static void timer_consume(struct board_object *t, uint64_t expirations)
{
    if (t->interval_ns > 0) t->deadline_ns += (int64_t)expirations * t->interval_ns;
    else t->deadline_ns = 0;
}

ssize_t waits_timerfd_read(struct board_object *t, void *buffer, size_t count)
{
    if (count < sizeof(uint64_t)) {
        errno = EINVAL;
        return -1;
    }
    for (;;) {
        uint64_t n = timer_expirations(t, attach_peek_now());
        if (n > 0) {
            timer_consume(t, n);
            memcpy(buffer, &n, sizeof n);
            return sizeof n;
        }
        if (t->open_flags & O_NONBLOCK) {
            errno = EAGAIN;
            return -1;
        }
        if (t->deadline_ns == 0) {
            attach_say("uioemu attach: a blocking read of a disarmed timerfd waits forever\n", NULL, NULL);
            attach_sleep_until(INT64_MAX / 2);
            continue;
        }
        attach_sleep_until(t->deadline_ns);
    }
}

static int64_t ts_ns(const struct timespec *ts) { return (int64_t)ts->tv_sec * NS_PER_SECOND + ts->tv_nsec; }

static struct timespec ns_ts(int64_t ns)
{
    struct timespec ts = { (time_t)(ns / NS_PER_SECOND), (long)(ns % NS_PER_SECOND) };
    return ts;
}

UIOEMU_EXPORT int timerfd_create(int clock, int flags)
{
    bool emulated = (clock == CLOCK_MONOTONIC || clock == CLOCK_BOOTTIME || clock == CLOCK_REALTIME ||
                     clock == CLOCK_REALTIME_ALARM || clock == CLOCK_BOOTTIME_ALARM) &&
                    attach_virtual_time();
    if (!emulated) return REAL(timerfd_create)(clock, flags);
    if (flags & ~(TFD_NONBLOCK | TFD_CLOEXEC)) {
        errno = EINVAL;
        return -1;
    }
    int fd = (int)RAW2(SYS_eventfd2, 0, (flags & TFD_CLOEXEC) ? EFD_CLOEXEC : 0);
    if (fd < 0) {
        errno = -fd;
        return -1;
    }
    struct board_object *t = fd_attach_new(fd, BOARD_TIMERFD);
    if (t == NULL) {
        RAW1(SYS_close, fd);
        errno = EMFILE;
        return -1;
    }
    t->clock = clock;
    t->open_flags = O_RDWR | ((flags & TFD_NONBLOCK) ? O_NONBLOCK : 0);
    snprintf(t->path, sizeof t->path, "anon_inode:[timerfd]");
    return fd;
}

static void timer_get(const struct board_object *t, struct itimerspec *value)
{
    int64_t now = attach_peek_now();
    int64_t remaining = t->deadline_ns == 0 ? 0 : t->deadline_ns - now;
    if (t->deadline_ns != 0 && remaining <= 0) remaining = 1; /* expired and not read: the kernel says 1 ns */
    value->it_value = ns_ts(remaining);
    value->it_interval = ns_ts(t->interval_ns);
}

UIOEMU_EXPORT int timerfd_settime(int fd, int flags, const struct itimerspec *value, struct itimerspec *old)
{
    struct board_object *t = fd_object(fd);
    if (t == NULL || t->kind != BOARD_TIMERFD) return REAL(timerfd_settime)(fd, flags, value, old);
    if (value == NULL || value->it_value.tv_nsec < 0 || value->it_value.tv_nsec >= NS_PER_SECOND ||
        value->it_interval.tv_nsec < 0 || value->it_interval.tv_nsec >= NS_PER_SECOND) {
        errno = EINVAL;
        return -1;
    }
    if (old != NULL) timer_get(t, old);
    int64_t v = ts_ns(&value->it_value);
    t->interval_ns = ts_ns(&value->it_interval);
    if (v == 0) {
        t->deadline_ns = 0;
    } else if (flags & TFD_TIMER_ABSTIME) {
        int64_t deadline = v - (is_realtime_clock(t->clock) ? EPOCH_NS : 0);
        t->deadline_ns = deadline > 0 ? deadline : 1;
    } else {
        t->deadline_ns = attach_peek_now() + v;
    }
    return 0;
}

UIOEMU_EXPORT int timerfd_gettime(int fd, struct itimerspec *value)
{
    struct board_object *t = fd_object(fd);
    if (t == NULL || t->kind != BOARD_TIMERFD) return REAL(timerfd_gettime)(fd, value);
    timer_get(t, value);
    return 0;
}

/* ---- readiness of board fds ---- */

/* The object if `fd` is a board fd whose readiness is emulated here (virtual time), else NULL. */
static struct board_object *emulated_fd(int fd)
{
    struct board_object *o = fd_object(fd);
    if (o == NULL) return NULL;
    if (o->kind == BOARD_TIMERFD) return o;
    if (o->kind == BOARD_UIO && !g_attach.realtime) return o;
    return NULL;
}

static bool object_readable(const struct board_object *o)
{
    if (o->kind == BOARD_TIMERFD) return timer_expirations(o, attach_peek_now()) > 0;
    if (o->kind == BOARD_UIO)
        return fd_object_current(o) && o->handle < UIOEMU_MAX_HANDLES &&
               __atomic_load_n(&g_attach.mailbox->readable[o->handle], __ATOMIC_ACQUIRE) != 0;
    return false;
}

/* The set a wait is about: UIO handles and the earliest timerfd deadline. */
struct wait_set {
    uint32_t handles[WAIT_HANDLES_MAX];
    uint32_t count;
    int64_t earliest; /* -1: none */
};

static void wait_set_add(struct wait_set *set, const struct board_object *o)
{
    if (o->kind == BOARD_UIO && fd_object_current(o)) {
        for (uint32_t i = 0; i < set->count; i++)
            if (set->handles[i] == o->handle) return;
        if (set->count < WAIT_HANDLES_MAX) set->handles[set->count++] = o->handle;
    } else if (o->kind == BOARD_TIMERFD && o->deadline_ns != 0) {
        if (set->earliest < 0 || o->deadline_ns < set->earliest) set->earliest = o->deadline_ns;
    }
}

/* OP_WAIT until one of the handles is readable or board time reaches the deadline (-1: none). */
static void board_wait(const struct wait_set *set, int64_t deadline)
{
    if (set != NULL && set->earliest >= 0 && (deadline < 0 || set->earliest < deadline)) deadline = set->earliest;
    attach_lock();
    struct uioemu_request *rq = &g_attach.mailbox->request;
    rq->op = UIOEMU_OP_WAIT;
    uint32_t count = set ? set->count : 0;
    rq->a[0] = deadline;
    rq->a[1] = count;
    if (count) memcpy(rq->payload, set->handles, count * sizeof(uint32_t));
    rq->length = count * (uint32_t)sizeof(uint32_t);
    int64_t result = attach_call_locked(NULL);
    attach_unlock();
    if (result < 0) attach_wait_for_end();
}

static int64_t deadline_after(int64_t timeout_ns)
{
    return timeout_ns < 0 ? -1 : attach_peek_now() + timeout_ns;
}

static bool deadline_passed(int64_t deadline) { return deadline >= 0 && attach_peek_now() >= deadline; }

/* ---- poll ---- */

/* timeout_ns: -1 infinite. */
static int poll_virtual(struct pollfd *fds, nfds_t n, int64_t timeout_ns)
{
    int board = 0;
    for (nfds_t i = 0; i < n; i++)
        if (fds[i].fd >= 0 && emulated_fd(fds[i].fd)) board++;
    if (board == 0) {
        if (timeout_ns < 0) {
            attach_detach(UIOEMU_DETACH_READ, 0);
            int r = REAL(poll)(fds, n, -1);
            int saved = errno;
            attach_detach(UIOEMU_DETACH_BACK, 0);
            errno = saved;
            return r;
        }
        int r = REAL(poll)(fds, n, 0);
        if (r != 0 || timeout_ns == 0) return r;
        board_wait(NULL, deadline_after(timeout_ns));
        return REAL(poll)(fds, n, 0);
    }
    attach_check_board_thread(0);
    int64_t deadline = deadline_after(timeout_ns);
    for (;;) {
        int saved_fds[n > 0 ? n : 1];
        bool has_real = false;
        for (nfds_t i = 0; i < n; i++) {
            saved_fds[i] = fds[i].fd;
            if (fds[i].fd >= 0 && emulated_fd(fds[i].fd)) fds[i].fd = -1;
            else if (fds[i].fd >= 0) has_real = true;
        }
        int r = 0;
        if (has_real) r = REAL(poll)(fds, n, 0);
        for (nfds_t i = 0; i < n; i++) fds[i].fd = saved_fds[i];
        if (r < 0) return r;
        int ready = 0;
        struct wait_set set = { .earliest = -1 };
        for (nfds_t i = 0; i < n; i++) {
            struct board_object *o = fds[i].fd >= 0 ? emulated_fd(fds[i].fd) : NULL;
            if (o != NULL) {
                fds[i].revents = object_readable(o) ? (short)(fds[i].events & (POLLIN | POLLRDNORM)) : 0;
                if (fds[i].events & (POLLIN | POLLRDNORM)) wait_set_add(&set, o);
            }
            if (fds[i].revents) ready++;
        }
        if (ready > 0 || timeout_ns == 0 || deadline_passed(deadline)) return ready;
        board_wait(&set, deadline);
    }
}

UIOEMU_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    if (!attach_virtual_time()) return REAL(poll)(fds, n, timeout);
    return poll_virtual(fds, n, timeout < 0 ? -1 : (int64_t)timeout * 1000000);
}

int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fds_length);
UIOEMU_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fds_length)
{
    if (fds_length / sizeof *fds < n) return REAL(__poll_chk)(fds, n, timeout, fds_length); /* aborts */
    return poll(fds, n, timeout);
}

UIOEMU_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *timeout, const sigset_t *mask)
{
    if (!attach_virtual_time()) return REAL(ppoll)(fds, n, timeout, mask);
    sigset_t old;
    if (mask) pthread_sigmask(SIG_SETMASK, mask, &old);
    int r = poll_virtual(fds, n, timeout ? ts_ns(timeout) : -1);
    int saved = errno;
    if (mask) pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = saved;
    return r;
}

int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *timeout, const sigset_t *mask, size_t fds_length);
UIOEMU_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *timeout, const sigset_t *mask,
                              size_t fds_length)
{
    if (fds_length / sizeof *fds < n) return REAL(__ppoll_chk)(fds, n, timeout, mask, fds_length);
    return ppoll(fds, n, timeout, mask);
}

/* ---- select (through the poll path) ---- */

static int select_virtual(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds, int64_t timeout_ns)
{
    if (nfds < 0 || nfds > FD_SETSIZE) {
        errno = EINVAL;
        return -1;
    }
    struct pollfd fds[FD_SETSIZE];
    int n = 0;
    for (int fd = 0; fd < nfds; fd++) {
        short events = 0;
        if (readfds && FD_ISSET(fd, readfds)) events |= POLLIN;
        if (writefds && FD_ISSET(fd, writefds)) events |= POLLOUT;
        if (exceptfds && FD_ISSET(fd, exceptfds)) events |= POLLPRI;
        if (events) fds[n++] = (struct pollfd){ fd, events, 0 };
    }
    int r = poll_virtual(fds, (nfds_t)n, timeout_ns);
    if (r < 0) return r;
    for (int i = 0; i < n; i++)
        if (fds[i].revents & POLLNVAL) {
            errno = EBADF;
            return -1;
        }
    if (readfds) FD_ZERO(readfds);
    if (writefds) FD_ZERO(writefds);
    if (exceptfds) FD_ZERO(exceptfds);
    int count = 0;
    for (int i = 0; i < n; i++) {
        short re = fds[i].revents;
        if (readfds && (fds[i].events & POLLIN) && (re & (POLLIN | POLLHUP | POLLERR))) FD_SET(fds[i].fd, readfds), count++;
        if (writefds && (fds[i].events & POLLOUT) && (re & (POLLOUT | POLLERR))) FD_SET(fds[i].fd, writefds), count++;
        if (exceptfds && (fds[i].events & POLLPRI) && (re & POLLPRI)) FD_SET(fds[i].fd, exceptfds), count++;
    }
    return count;
}

UIOEMU_EXPORT int select(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds, struct timeval *timeout)
{
    if (!attach_virtual_time()) return REAL(select)(nfds, readfds, writefds, exceptfds, timeout);
    int64_t t = timeout ? (int64_t)timeout->tv_sec * NS_PER_SECOND + (int64_t)timeout->tv_usec * 1000 : -1;
    int64_t start = attach_peek_now();
    int r = select_virtual(nfds, readfds, writefds, exceptfds, t);
    if (timeout && r >= 0) { /* Linux writes back the time not slept */
        int64_t left = t - (attach_peek_now() - start);
        if (left < 0) left = 0;
        timeout->tv_sec = (time_t)(left / NS_PER_SECOND);
        timeout->tv_usec = (suseconds_t)((left % NS_PER_SECOND) / 1000);
    }
    return r;
}

UIOEMU_EXPORT int pselect(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds, const struct timespec *timeout,
                          const sigset_t *mask)
{
    if (!attach_virtual_time()) return REAL(pselect)(nfds, readfds, writefds, exceptfds, timeout, mask);
    sigset_t old;
    if (mask) pthread_sigmask(SIG_SETMASK, mask, &old);
    int r = select_virtual(nfds, readfds, writefds, exceptfds, timeout ? ts_ns(timeout) : -1);
    int saved = errno;
    if (mask) pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = saved;
    return r;
}

/* ---- epoll ---- */

void waits_forget_object(struct board_object *object)
{
    int index = fd_object_index(object);
    for (int i = 0; i < 1024; i++) {
        struct board_object *e = fd_object_at(i);
        if (e == NULL || e->kind != BOARD_EPOLL) continue;
        for (int m = 0; m < e->member_count;) {
            if (e->members[m].object == index) e->members[m] = e->members[--e->member_count];
            else m++;
        }
    }
}

UIOEMU_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
    struct board_object *target = attach_enabled() ? emulated_fd(fd) : NULL;
    if (target == NULL) return REAL(epoll_ctl)(epfd, op, fd, event);
    struct board_object *e = fd_object(epfd);
    if (e != NULL && e->kind != BOARD_EPOLL) {
        errno = EINVAL;
        return -1;
    }
    if (e == NULL) {
        struct epoll_event probe = { 0 };
        /* Make sure epfd is an epoll fd (EBADF/EINVAL as the kernel would say). */
        if (REAL(epoll_ctl)(epfd, EPOLL_CTL_DEL, epfd, &probe) < 0 && errno != ENOENT && errno != EINVAL) return -1;
        e = fd_attach_new(epfd, BOARD_EPOLL);
        if (e == NULL) {
            errno = ENOMEM;
            return -1;
        }
    }
    int index = fd_object_index(target);
    int found = -1;
    for (int m = 0; m < e->member_count; m++)
        if (e->members[m].fd == fd && e->members[m].object == index) found = m;
    switch (op) {
    case EPOLL_CTL_ADD:
        if (found >= 0) {
            errno = EEXIST;
            return -1;
        }
        if (e->member_count >= EPOLL_MEMBERS_MAX) {
            errno = ENOSPC;
            return -1;
        }
        e->members[e->member_count++] = (struct epoll_member){
            .fd = fd, .object = index, .events = event->events, .data = event->data.u64,
        };
        return 0;
    case EPOLL_CTL_MOD:
        if (found < 0) {
            errno = ENOENT;
            return -1;
        }
        e->members[found].events = event->events;
        e->members[found].data = event->data.u64;
        e->members[found].reported = false;
        e->members[found].disabled = false;
        return 0;
    case EPOLL_CTL_DEL:
        if (found < 0) {
            errno = ENOENT;
            return -1;
        }
        e->members[found] = e->members[--e->member_count];
        return 0;
    default:
        errno = EINVAL;
        return -1;
    }
}

static int epoll_virtual(int epfd, struct epoll_event *events, int max, int64_t timeout_ns)
{
    struct board_object *e = fd_object(epfd);
    if (max <= 0) {
        errno = EINVAL;
        return -1;
    }
    if (e == NULL || e->kind != BOARD_EPOLL || e->member_count == 0) {
        if (timeout_ns < 0) {
            attach_detach(UIOEMU_DETACH_READ, 0);
            int r = REAL(epoll_wait)(epfd, events, max, -1);
            int saved = errno;
            attach_detach(UIOEMU_DETACH_BACK, 0);
            errno = saved;
            return r;
        }
        int r = REAL(epoll_wait)(epfd, events, max, 0);
        if (r != 0 || timeout_ns == 0) return r;
        board_wait(NULL, deadline_after(timeout_ns));
        return REAL(epoll_wait)(epfd, events, max, 0);
    }
    attach_check_board_thread(0);
    int64_t deadline = deadline_after(timeout_ns);
    for (;;) {
        int n = 0;
        struct wait_set set = { .earliest = -1 };
        for (int m = 0; m < e->member_count && n < max; m++) {
            struct epoll_member *member = &e->members[m];
            struct board_object *o = fd_object_at(member->object);
            if (o == NULL || member->disabled) continue;
            bool ready = (member->events & (EPOLLIN | EPOLLRDNORM)) && object_readable(o);
            if (!ready) {
                member->reported = false;
                if (member->events & (EPOLLIN | EPOLLRDNORM)) wait_set_add(&set, o);
                continue;
            }
            if ((member->events & EPOLLET) && member->reported) {
                wait_set_add(&set, o);
                continue;
            }
            member->reported = true;
            if (member->events & EPOLLONESHOT) member->disabled = true;
            events[n].events = member->events & (EPOLLIN | EPOLLRDNORM);
            events[n].data.u64 = member->data;
            n++;
        }
        if (n < max) {
            int r = REAL(epoll_wait)(epfd, events + n, max - n, 0);
            if (r > 0) n += r;
        }
        if (n > 0 || timeout_ns == 0 || deadline_passed(deadline)) return n;
        board_wait(&set, deadline);
    }
}

UIOEMU_EXPORT int epoll_wait(int epfd, struct epoll_event *events, int max, int timeout)
{
    if (!attach_virtual_time()) return REAL(epoll_wait)(epfd, events, max, timeout);
    return epoll_virtual(epfd, events, max, timeout < 0 ? -1 : (int64_t)timeout * 1000000);
}

UIOEMU_EXPORT int epoll_pwait(int epfd, struct epoll_event *events, int max, int timeout, const sigset_t *mask)
{
    if (!attach_virtual_time()) return REAL(epoll_pwait)(epfd, events, max, timeout, mask);
    sigset_t old;
    if (mask) pthread_sigmask(SIG_SETMASK, mask, &old);
    int r = epoll_virtual(epfd, events, max, timeout < 0 ? -1 : (int64_t)timeout * 1000000);
    int saved = errno;
    if (mask) pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = saved;
    return r;
}

int epoll_pwait2(int epfd, struct epoll_event *events, int max, const struct timespec *timeout, const sigset_t *mask);
UIOEMU_EXPORT int epoll_pwait2(int epfd, struct epoll_event *events, int max, const struct timespec *timeout,
                               const sigset_t *mask)
{
    if (!attach_virtual_time()) {
        int (*real)(int, struct epoll_event *, int, const struct timespec *, const sigset_t *) = REAL(epoll_pwait2);
        if (real == NULL) {
            errno = ENOSYS;
            return -1;
        }
        return real(epfd, events, max, timeout, mask);
    }
    sigset_t old;
    if (mask) pthread_sigmask(SIG_SETMASK, mask, &old);
    int r = epoll_virtual(epfd, events, max, timeout ? ts_ns(timeout) : -1);
    int saved = errno;
    if (mask) pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = saved;
    return r;
}
