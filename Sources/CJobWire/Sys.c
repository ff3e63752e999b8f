//===----------------------------------------------------------------------===//
//
// This source file is part of the job open source project
//
// Copyright (c) 2026 the job project authors
// Licensed under Apache License v2.0
//
// See LICENSE.txt for license information
//
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/* System calls without the C library (see CJobSys.h): the constants and structures come from
   the kernel's headers, the calls are made here. */

#define _GNU_SOURCE
#include "CJobSys.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/stat.h>
#include <signal.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/ioctl.h>
#include <termios.h>

#if !defined(__x86_64__) && !defined(__aarch64__)
#include <unistd.h>
#endif

long cjs_syscall(long number, long a, long b, long c, long d, long e, long f) {
#if defined(__x86_64__)
    long result;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(result)
                     : "a"(number), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return result;
#elif defined(__aarch64__)
    register long x8 __asm__("x8") = number;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
    return x0;
#else
    /* Elsewhere the fast path runs only as a constructor, once the C library is set up. */
    long result = syscall(number, a, b, c, d, e, f);
    return result == -1 ? -errno : result;
#endif
}

long cjs_read(int fd, void *into, size_t count) { return CJS_SYS3(SYS_read, fd, into, count); }

long cjs_write(int fd, const void *bytes, size_t count) { return CJS_SYS3(SYS_write, fd, bytes, count); }

size_t cjs_write_all(int fd, const void *bytes, size_t count) {
    size_t done = 0;
    while (done < count) {
        long written = cjs_write(fd, (const char *)bytes + done, count - done);
        if (written == -EINTR) continue;
        if (written <= 0) break;
        done += (size_t)written;
    }
    return done;
}

int cjs_open(const char *path, int flags) { return (int)CJS_SYS4(SYS_openat, AT_FDCWD, path, flags, 0); }

void cjs_close(int fd) { CJS_SYS1(SYS_close, fd); }

void cjs_exit(int status) {
    for (;;) CJS_SYS1(SYS_exit_group, status);
}

int cjs_stat(const char *path, int follow, cjs_file *file) {
    struct statx info;
    long result = CJS_SYS5(SYS_statx, AT_FDCWD, path, follow ? 0 : AT_SYMLINK_NOFOLLOW,
                       STATX_UID | STATX_INO | STATX_SIZE | STATX_MTIME, &info);
    if (result != 0) return (int)result;
    file->uid = info.stx_uid;
    file->inode = info.stx_ino;
    file->size = info.stx_size;
    file->modified_seconds = info.stx_mtime.tv_sec;
    file->modified_nanoseconds = info.stx_mtime.tv_nsec;
    return 0;
}

int cjs_unix_connect(const char *path) {
    struct sockaddr_un address;
    size_t length = cjs_strlen(path);
    if (length == 0 || length >= sizeof address.sun_path) return -ENAMETOOLONG;
    address.sun_family = AF_UNIX;
    cjs_memcpy(address.sun_path, path, length + 1);
    int fd = (int)CJS_SYS3(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return fd;
    long result;
    do {
        result = CJS_SYS3(SYS_connect, fd, &address, sizeof address);
    } while (result == -EINTR);
    if (result != 0) {
        cjs_close(fd);
        return (int)result;
    }
    return fd;
}

int cjs_peer(int fd, uint32_t *uid, int32_t *pid) {
    struct ucred credentials;
    socklen_t length = sizeof credentials;
    long result = CJS_SYS5(SYS_getsockopt, fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length);
    if (result != 0) return (int)result;
    *uid = credentials.uid;
    *pid = credentials.pid;
    return 0;
}

long cjs_send(int fd, const void *bytes, size_t count) {
    return CJS_SYS6(SYS_sendto, fd, bytes, count, MSG_NOSIGNAL, 0, 0);
}

/* The receive timeout set by `cjs_receive_timeout`, in seconds (0: none). */
static long receive_seconds;

long cjs_recv(int fd, void *into, size_t count) {
    /* Waited for with ppoll, which only data wakes: a read that sleeps on a stream socket is
       woken by every message of its own the peer takes in, and sleeps again. */
    struct pollfd wait = {fd, POLLIN, 0};
    long timeout[2] = {receive_seconds, 0};
    long ready = CJS_SYS5(SYS_ppoll, &wait, 1, receive_seconds > 0 ? timeout : 0, 0, 8);
    if (ready == 0) return -EAGAIN;
    if (ready == -EINTR) return -EINTR;
    return CJS_SYS6(SYS_recvfrom, fd, into, count, 0, 0, 0);
}

void cjs_receive_timeout(int fd, long seconds) {
    /* The kernel's timeval: two longs on both architectures. */
    long value[2] = {seconds, 0};
    receive_seconds = seconds;
    CJS_SYS5(SYS_setsockopt, fd, SOL_SOCKET, SO_RCVTIMEO, value, sizeof value);
}

int cjs_is_terminal(int fd) {
    struct termios settings;
    return CJS_SYS3(SYS_ioctl, fd, TCGETS, &settings) == 0;
}

int cjs_getcwd(char *into, size_t size) {
    /* A folder outside the process's root comes back as "(unreachable)/...": glibc's getcwd
       fails then, and so does this. */
    return CJS_SYS2(SYS_getcwd, into, size) > 0 && into[0] == '/' ? 0 : -1;
}

unsigned cjs_umask(unsigned mask) { return (unsigned)CJS_SYS1(SYS_umask, mask); }

uint32_t cjs_getuid(void) { return (uint32_t)CJS_SYS0(SYS_getuid); }

int cjs_flock(int fd, int operation) { return (int)CJS_SYS2(SYS_flock, fd, operation); }

void cjs_ignore_sigpipe(void) {
    /* The kernel's sigaction: handler, flags, restorer, mask (x86_64 and arm64 alike). */
    unsigned long action[4] = {(unsigned long)SIG_IGN, 0, 0, 0};
    CJS_SYS4(SYS_rt_sigaction, SIGPIPE, action, 0, 8);
}

/* An allocation is its own mapping, its size in the 16 bytes in front of it; or, once a caller
   gave an arena (`cjs_use_arena`: the fast path, a process of one thread), a block of the
   arena, laid out the same way, so that a run touches one or two pages of it instead of making
   and faulting in a mapping for each buffer. */
enum { header = 16 };

static char *arena_start, *arena_at, *arena_end;
static char *arena_last; /* the last block's header: it alone grows and shrinks in place */

void cjs_use_arena(void *bytes, size_t size) {
    arena_start = arena_at = arena_last = bytes;
    arena_end = (char *)bytes + size;
}

static int in_arena(const char *base) { return arena_start && base >= arena_start && base < arena_end; }

static size_t rounded(size_t size) { return (size + header + 15) & ~(size_t)15; }

void *cjs_allocate(size_t size) {
    if (size > ((size_t)1 << 40)) return 0;
    if (arena_start && rounded(size) <= (size_t)(arena_end - arena_at)) {
        arena_last = arena_at;
        *(size_t *)arena_at = size + header;
        arena_at += rounded(size);
        return arena_last + header;
    }
    long at = CJS_SYS6(SYS_mmap, 0, size + header, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (at < 0 && at > -4096) return 0;
    *(size_t *)at = size + header;
    return (char *)at + header;
}

void *cjs_reallocate(void *bytes, size_t size) {
    if (!bytes) return cjs_allocate(size);
    if (size > ((size_t)1 << 40)) return 0;
    char *base = (char *)bytes - header;
    if (in_arena(base)) {
        if (base == arena_last && rounded(size) <= (size_t)(arena_end - base)) {
            *(size_t *)base = size + header;
            arena_at = base + rounded(size);
            return bytes;
        }
        size_t had = *(size_t *)base - header;
        char *moved = cjs_allocate(size);
        if (moved) cjs_memcpy(moved, bytes, had < size ? had : size);
        return moved;
    }
    long at = CJS_SYS5(SYS_mremap, base, *(size_t *)base, size + header, MREMAP_MAYMOVE, 0);
    if (at < 0 && at > -4096) return 0;
    *(size_t *)at = size + header;
    return (char *)at + header;
}

void cjs_release(void *bytes) {
    if (!bytes) return;
    char *base = (char *)bytes - header;
    if (in_arena(base)) {
        if (base == arena_last) arena_at = base;
        return;
    }
    CJS_SYS2(SYS_munmap, base, *(size_t *)base);
}

size_t cjs_strlen(const char *text) {
    const char *at = text;
    while (*at) at++;
    return (size_t)(at - text);
}

int cjs_strcmp(const char *one, const char *two) {
    while (*one && *one == *two) one++, two++;
    return (unsigned char)*one - (unsigned char)*two;
}

int cjs_starts_with(const char *text, const char *prefix) {
    while (*prefix)
        if (*text++ != *prefix++) return 0;
    return 1;
}

const char *cjs_strchr(const char *text, int byte) {
    for (;; text++) {
        if (*text == (char)byte) return text;
        if (!*text) return 0;
    }
}

void cjs_memcpy(void *into, const void *from, size_t count) {
    /* Compiled freestanding (Package.swift), so that this loop is not made a call to memcpy. */
    unsigned char *to = into;
    const unsigned char *source = from;
    while (count--) *to++ = *source++;
}

int cjs_memcmp(const void *one, const void *two, size_t count) {
    const unsigned char *a = one, *b = two;
    for (; count; count--, a++, b++)
        if (*a != *b) return *a - *b;
    return 0;
}

const char *cjs_getenv(char *const *environment, const char *name) {
    size_t length = cjs_strlen(name);
    for (; *environment; environment++)
        if (cjs_starts_with(*environment, name) && (*environment)[length] == '=') return *environment + length + 1;
    return 0;
}

const char *cjs_error_text(int error, char *room, size_t size) {
    switch (error) {
    case ECONNRESET: return "Connection reset by peer";
    case EPIPE: return "Broken pipe";
    case ENOTCONN: return "Transport endpoint is not connected";
    case EIO: return "Input/output error";
    case ENOMEM: return "Cannot allocate memory";
    case EBADF: return "Bad file descriptor";
    case ETIMEDOUT: return "Connection timed out";
    default: break;
    }
    static const char prefix[] = "error ";
    if (size < sizeof prefix + 12) return "error";
    cjs_memcpy(room, prefix, sizeof prefix - 1);
    char digits[12];
    int count = 0;
    unsigned value = (unsigned)error;
    do digits[count++] = (char)('0' + value % 10);
    while ((value /= 10) != 0);
    size_t at = sizeof prefix - 1;
    while (count) room[at++] = digits[--count];
    room[at] = 0;
    return room;
}
