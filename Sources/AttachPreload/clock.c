/*
 * Time. In virtual time (the default) the child's clocks read board time: MONOTONIC, MONOTONIC_RAW,
 * MONOTONIC_COARSE, BOOTTIME (and its ALARM twin) read board_time_ns plus the clock-read debt;
 * REALTIME, REALTIME_COARSE, REALTIME_ALARM and TAI read UIOEMU_REALTIME_EPOCH_SECONDS plus that.
 * Each read adds clock_read_cost_ns to the debt, which goes out with the next request, so a loop
 * spinning on the clock sees time pass and ends. CPU-time clocks pass through. Sleeps are
 * OP_SLEEP_UNTIL. In real time (and without uioemu) everything passes through.
 */
#include "preload.h"

/* Interposers stay robust to NULL arguments that glibc declares nonnull. */
#pragma GCC diagnostic ignored "-Wnonnull-compare"

#include <sys/time.h>
#include <threads.h>
#include <time.h>

#define NS_PER_SECOND 1000000000ll
#define EPOCH_NS (UIOEMU_REALTIME_EPOCH_SECONDS * NS_PER_SECOND)

static int clock_class(clockid_t id)
{
    switch (id) {
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
    case CLOCK_BOOTTIME_ALARM:
        return 1;
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_REALTIME_ALARM:
    case CLOCK_TAI:
        return 2;
    default:
        return 0;
    }
}

int64_t clock_board_ns_for(int clock_id, bool *emulated)
{
    int cls = clock_class(clock_id);
    *emulated = cls != 0 && attach_virtual_time();
    if (!*emulated) return 0;
    return attach_peek_now() + (cls == 2 ? EPOCH_NS : 0);
}

static bool emulated_now(clockid_t id, int64_t *ns)
{
    int cls = clock_class(id);
    if (cls == 0 || !attach_virtual_time()) return false;
    *ns = attach_now() + (cls == 2 ? EPOCH_NS : 0);
    return true;
}

UIOEMU_EXPORT int clock_gettime(clockid_t id, struct timespec *ts)
{
    int64_t ns;
    if (!emulated_now(id, &ns)) return REAL(clock_gettime)(id, ts);
    if (ts == NULL) {
        errno = EFAULT;
        return -1;
    }
    ts->tv_sec = ns / NS_PER_SECOND;
    ts->tv_nsec = ns % NS_PER_SECOND;
    return 0;
}

int __clock_gettime(clockid_t id, struct timespec *ts);
UIOEMU_EXPORT int __clock_gettime(clockid_t id, struct timespec *ts) { return clock_gettime(id, ts); }

UIOEMU_EXPORT int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    int64_t ns;
    if (!emulated_now(CLOCK_REALTIME, &ns)) return REAL(gettimeofday)(tv, tz);
    if (tv != NULL) {
        tv->tv_sec = ns / NS_PER_SECOND;
        tv->tv_usec = (ns % NS_PER_SECOND) / 1000;
    }
    if (tz != NULL) {
        struct timezone *zone = tz;
        zone->tz_minuteswest = 0;
        zone->tz_dsttime = 0;
    }
    return 0;
}

UIOEMU_EXPORT time_t time(time_t *out)
{
    int64_t ns;
    if (!emulated_now(CLOCK_REALTIME, &ns)) return REAL(time)(out);
    time_t t = (time_t)(ns / NS_PER_SECOND);
    if (out != NULL) *out = t;
    return t;
}

UIOEMU_EXPORT int timespec_get(struct timespec *ts, int base)
{
    int64_t ns;
    if (base != TIME_UTC || !emulated_now(CLOCK_REALTIME, &ns)) return REAL(timespec_get)(ts, base);
    ts->tv_sec = ns / NS_PER_SECOND;
    ts->tv_nsec = ns % NS_PER_SECOND;
    return base;
}

/* ---- sleeps ---- */

static int64_t timespec_ns(const struct timespec *ts)
{
    if (ts->tv_sec > (INT64_MAX / NS_PER_SECOND) - 1) return INT64_MAX / 2;
    return (int64_t)ts->tv_sec * NS_PER_SECOND + ts->tv_nsec;
}

static void sleep_for(int64_t ns)
{
    if (ns <= 0) return;
    attach_sleep_until(attach_peek_now() + ns);
}

UIOEMU_EXPORT int nanosleep(const struct timespec *request, struct timespec *remaining)
{
    if (!attach_virtual_time()) return REAL(nanosleep)(request, remaining);
    if (request == NULL || request->tv_nsec < 0 || request->tv_nsec >= NS_PER_SECOND || request->tv_sec < 0) {
        errno = EINVAL;
        return -1;
    }
    sleep_for(timespec_ns(request));
    if (remaining != NULL) remaining->tv_sec = remaining->tv_nsec = 0;
    return 0;
}

UIOEMU_EXPORT int clock_nanosleep(clockid_t id, int flags, const struct timespec *request, struct timespec *remaining)
{
    int cls = clock_class(id);
    if (cls == 0 || !attach_virtual_time()) return REAL(clock_nanosleep)(id, flags, request, remaining);
    if (request == NULL || request->tv_nsec < 0 || request->tv_nsec >= NS_PER_SECOND || request->tv_sec < 0) return EINVAL;
    if (flags & TIMER_ABSTIME) {
        int64_t target = timespec_ns(request) - (cls == 2 ? EPOCH_NS : 0);
        if (target > attach_peek_now()) attach_sleep_until(target);
    } else {
        sleep_for(timespec_ns(request));
        if (remaining != NULL) remaining->tv_sec = remaining->tv_nsec = 0;
    }
    return 0;
}

UIOEMU_EXPORT int usleep(useconds_t microseconds)
{
    if (!attach_virtual_time()) return REAL(usleep)(microseconds);
    sleep_for((int64_t)microseconds * 1000);
    return 0;
}

UIOEMU_EXPORT unsigned int sleep(unsigned int seconds)
{
    if (!attach_virtual_time()) return REAL(sleep)(seconds);
    sleep_for((int64_t)seconds * NS_PER_SECOND);
    return 0;
}

UIOEMU_EXPORT int thrd_sleep(const struct timespec *duration, struct timespec *remaining)
{
    if (!attach_virtual_time()) return REAL(thrd_sleep)(duration, remaining);
    return nanosleep(duration, remaining) == 0 ? 0 : -2;
}
