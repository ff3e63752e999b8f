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

#ifndef CJOBSYS_H
#define CJOBSYS_H

#include <stddef.h>
#include <stdint.h>

/* What the fast path of `job` (CJobFront) and the frames it writes (CJobWire) use instead of
   the C library: system calls made directly, and the few string and memory functions they
   need. The fast path runs at the program's entry, before the C library has set itself up
   (glibc's start-up asks the processor what it is, about 0.2 ms in a virtual machine, in every
   process), so nothing it calls may need the C library: no errno, no thread-local storage, no
   function glibc picks for the processor at start-up (memcpy, strlen...). `SysTests` checks the
   compiled code for calls outside this file.

   The system calls return what the kernel returns: a result, or -errno. */

long cjs_syscall(long number, long a, long b, long c, long d, long e, long f);
#define CJS_SYS0(n) cjs_syscall(n, 0, 0, 0, 0, 0, 0)
#define CJS_SYS1(n, a) cjs_syscall(n, (long)(a), 0, 0, 0, 0, 0)
#define CJS_SYS2(n, a, b) cjs_syscall(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define CJS_SYS3(n, a, b, c) cjs_syscall(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define CJS_SYS4(n, a, b, c, d) cjs_syscall(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define CJS_SYS5(n, a, b, c, d, e) cjs_syscall(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)
#define CJS_SYS6(n, a, b, c, d, e, f) \
    cjs_syscall(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

long cjs_read(int fd, void *into, size_t count);
long cjs_write(int fd, const void *bytes, size_t count);
/* Writes all of it, again after EINTR; what was written. */
size_t cjs_write_all(int fd, const void *bytes, size_t count);
int cjs_open(const char *path, int flags);
void cjs_close(int fd);
__attribute__((noreturn)) void cjs_exit(int status);

/* What the fast path reads of a file (statx): 0, or -errno. */
typedef struct {
    uint32_t uid;
    uint64_t inode;
    uint64_t size;
    int64_t modified_seconds; /* stat's st_mtim */
    uint32_t modified_nanoseconds;
} cjs_file;
int cjs_stat(const char *path, int follow, cjs_file *file);

/* A stream socket connected to the Unix socket at `path` (close-on-exec), or -errno. */
int cjs_unix_connect(const char *path);
/* The peer's uid and pid of a Unix socket; 0, or -errno. */
int cjs_peer(int fd, uint32_t *uid, int32_t *pid);
long cjs_send(int fd, const void *bytes, size_t count); /* without SIGPIPE */
/* Receives what has arrived, waiting for it at most the timeout `cjs_receive_timeout` set
   (the process's one connection): -EAGAIN once that passed. */
long cjs_recv(int fd, void *into, size_t count);
void cjs_receive_timeout(int fd, long seconds);

int cjs_is_terminal(int fd);
/* The working directory into `into`: 0, or -1 (too long, or gone). */
int cjs_getcwd(char *into, size_t size);
unsigned cjs_umask(unsigned mask);
uint32_t cjs_getuid(void);
int cjs_flock(int fd, int operation);
void cjs_ignore_sigpipe(void);

/* Memory from the kernel (mmap), never shared between callers: NULL when there is none. After
   `cjs_use_arena`, for a process of one thread only, from that arena while it has room. */
void cjs_use_arena(void *bytes, size_t size);
void *cjs_allocate(size_t size);
void *cjs_reallocate(void *bytes, size_t size);
void cjs_release(void *bytes);

size_t cjs_strlen(const char *text);
int cjs_strcmp(const char *one, const char *two);
int cjs_starts_with(const char *text, const char *prefix);
const char *cjs_strchr(const char *text, int byte);
void cjs_memcpy(void *into, const void *from, size_t count);
int cjs_memcmp(const void *one, const void *two, size_t count);
/* The value of `name` in a NULL-ended environment, or NULL. */
const char *cjs_getenv(char *const *environment, const char *name);
/* The text strerror gives for the errors a reply's read may meet, else "error N". */
const char *cjs_error_text(int error, char *room, size_t size);

#endif
