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

#define _GNU_SOURCE
#include "CJobSupport.h"
#include "Internal.h"

#include <errno.h>
#include <malloc.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <spawn.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void cjob_reset_signals(void) { cjob_reset_signals_in(~(uint64_t)0); }

uint64_t cjob_ignored_signals(void) {
    uint64_t ignored = 0;
    for (int sig = 1; sig <= 64; sig++) {
        struct kernel_sigaction old;
        if (syscall(SYS_rt_sigaction, sig, NULL, &old, sizeof(uint64_t)) == 0 && old.handler == (void *)SIG_IGN)
            ignored |= (uint64_t)1 << (sig - 1);
    }
    return ignored;
}

pid_t cjob_spawn_daemon(const char *path, char *const *argv, int ready_fd) {
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid > 0) {
        /* The middle process exits at once; the daemon is nobody's child to reap. */
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        return pid;
    }
    setsid();
    if (fork() != 0) _exit(0);
    cjob_reset_signals();
    int null_fd = open("/dev/null", O_RDWR);
    if (null_fd < 0) _exit(127);
    int ready = dup(ready_fd);
    if (ready < 0) _exit(127);
    dup2(null_fd, 0); dup2(null_fd, 1); dup2(null_fd, 2);
    if (dup2(ready, 3) < 0) _exit(127);
    cjob_close_from(4, 0);
    if (chdir("/") != 0) _exit(127);
    execv(path, argv);
    _exit(127);
}


int cjob_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int cjob_eventfd_create(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }

void cjob_eventfd_signal(int fd) {
    uint64_t one = 1;
    ssize_t written = write(fd, &one, sizeof one);
    (void)written;
}

void cjob_eventfd_drain(int fd) {
    uint64_t count;
    while (read(fd, &count, sizeof count) > 0) {}
}

int cjob_timer_create(void) { return timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK); }

void cjob_timer_set(int fd, int ms) {
    struct itimerspec when;
    memset(&when, 0, sizeof when);
    when.it_value.tv_sec = ms / 1000;
    when.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
    timerfd_settime(fd, 0, &when, NULL);
}

void cjob_tune_malloc(void) {
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    mallopt(M_ARENA_MAX, 4);
}

void cjob_release_free_memory(void) { malloc_trim(0); }

size_t cjob_heap_in_use(void) {
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

int cjob_epoll_add(int epfd, int fd, uint64_t data) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.u64 = data;
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

int cjob_epoll_del(int epfd, int fd) { return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL); }

int cjob_epoll_wait(int epfd, uint64_t *out, int max, int timeout_ms) {
    struct epoll_event events[64];
    if (max > 64) max = 64;
    int n = epoll_wait(epfd, events, max, timeout_ms);
    for (int i = 0; i < n; i++) out[i] = events[i].data.u64;
    return n;
}

int cjob_peer_uid(int fd, uid_t *uid, pid_t *pid) {
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -1;
    *uid = cred.uid;
    if (pid) *pid = cred.pid;
    return 0;
}

ssize_t cjob_send_with_fds(int sock, const void *buf, size_t len, const int *fds, int nfds) {
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    char control[CMSG_SPACE(sizeof(int) * 16)];
    if (nfds > 16) { errno = EINVAL; return -1; }
    if (nfds > 0) {
        memset(control, 0, sizeof control);
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * (size_t)nfds);
    }
    ssize_t n;
    do { n = sendmsg(sock, &msg, MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
    return n;
}

ssize_t cjob_recv_with_fds(int sock, void *buf, size_t len, int *fds, int maxfds, int *nfds) {
    struct iovec iov = { .iov_base = buf, .iov_len = len };
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    char control[CMSG_SPACE(sizeof(int) * 16)];
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    *nfds = 0;
    ssize_t n;
    do { n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); } while (n < 0 && errno == EINTR);
    if (n < 0) return n;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        int *data = (int *)CMSG_DATA(c);
        for (int i = 0; i < count; i++) {
            if (*nfds < maxfds) fds[(*nfds)++] = data[i]; else close(data[i]);
        }
    }
    return n;
}

static int fill_address(struct sockaddr_un *addr, const char *path) {
    memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof addr->sun_path) { errno = ENAMETOOLONG; return -1; }
    strcpy(addr->sun_path, path);
    return 0;
}

int cjob_unix_listen(const char *path, int backlog) {
    struct sockaddr_un addr;
    if (fill_address(&addr, path) != 0) return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    mode_t old = umask(0177);
    int rc = bind(fd, (struct sockaddr *)&addr, sizeof addr);
    umask(old);
    if (rc != 0 || chmod(path, 0600) != 0 || listen(fd, backlog) != 0) {
        int saved = errno; close(fd); errno = saved; return -1;
    }
    return fd;
}

int cjob_unix_connect(const char *path) {
    struct sockaddr_un addr;
    if (fill_address(&addr, path) != 0) return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int rc;
    do { rc = connect(fd, (struct sockaddr *)&addr, sizeof addr); } while (rc != 0 && errno == EINTR);
    if (rc != 0) { int saved = errno; close(fd); errno = saved; return -1; }
    return fd;
}


static sigset_t handled_signals(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    return set;
}

void cjob_block_signals(void) {
    sigset_t set = handled_signals();
    sigaddset(&set, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int cjob_wait_stop(int stop_fd) {
    sigset_t set = handled_signals();
    int signals = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    struct pollfd fds[2] = {{.fd = signals, .events = POLLIN}, {.fd = stop_fd, .events = POLLIN}};
    int sig = 0;
    while (sig == 0) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (fds[1].revents) break;
        struct signalfd_siginfo info;
        if (signals >= 0 && read(signals, &info, sizeof info) == (ssize_t)sizeof info) sig = (int)info.ssi_signo;
    }
    if (signals >= 0) close(signals);
    return sig;
}

void cjob_ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }

int cjob_is_socket_owned_by(const char *path, uid_t uid, uid_t *owner) {
    struct stat st;
    if (lstat(path, &st) != 0) return -1;
    *owner = st.st_uid;
    return st.st_uid == uid ? 1 : 0;
}

size_t cjob_write_all(int fd, const void *buf, size_t len) {
    size_t done = 0;
    while (done < len && !cjob_interrupt_signal()) {
        ssize_t n = write(fd, (const char *)buf + done, len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += (size_t)n;
    }
    return done;
}

ssize_t cjob_sendfile(int out_fd, int in_fd, off_t *offset, size_t count) {
    ssize_t n;
    do { n = sendfile(out_fd, in_fd, offset, count); } while (n < 0 && errno == EINTR && !cjob_interrupt_signal());
    return n;
}

int cjob_terminal_columns(int fd) {
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0) return 0;
    return ws.ws_col;
}

int cjob_accept(int listener) { return accept4(listener, NULL, NULL, SOCK_CLOEXEC); }

int cjob_signalfd_child(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

void cjob_drain_signalfd(int fd) {
    struct signalfd_siginfo info;
    while (read(fd, &info, sizeof info) > 0) {}
}

void cjob_set_process_name(const char *name) { prctl(PR_SET_NAME, name, 0, 0, 0); }

int cjob_run_quiet(const char *path, char *const *argv) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK);
    extern char **environ;
    pid_t pid;
    int rc = posix_spawn(&pid, path, &actions, &attributes, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (rc != 0) return -1;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    return 0;
}

int cjob_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

pid_t cjob_spawn_with_stdio(const char *path, char *const *argv, char *const *envp, int in_fd, int out_fd,
                            int err_fd, int new_session) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_fd, 0);
    posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
    posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGHUP);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (new_session) flags |= POSIX_SPAWN_SETSID;
    posix_spawnattr_setflags(&attributes, flags);
    extern char **environ;
    pid_t pid;
    int rc = posix_spawn(&pid, path, &actions, &attributes, argv, envp ? envp : environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return pid;
}

void cjob_unblock_signals(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

static volatile sig_atomic_t interrupt_signal = 0;

static void note_interrupt(int sig) { interrupt_signal = sig; }

static const int interrupts[3] = {SIGINT, SIGTERM, SIGHUP};
static struct sigaction interrupts_before[3];

void cjob_catch_interrupts(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = note_interrupt;
    /* No SA_RESTART: a blocked write returns (EINTR), so the reader stops there. */
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 3; i++) {
        sigaction(interrupts[i], NULL, &interrupts_before[i]);
        /* A signal ignored at the start (a background job of a script) stays ignored. */
        if (interrupts_before[i].sa_handler == SIG_IGN) continue;
        sigaction(interrupts[i], &sa, NULL);
    }
}

void cjob_release_interrupts(void) {
    for (int i = 0; i < 3; i++) {
        if (interrupts_before[i].sa_handler == SIG_IGN) continue;
        sigaction(interrupts[i], &interrupts_before[i], NULL);
    }
    int sig = interrupt_signal;
    if (!sig) return;
    interrupt_signal = 0;
    /* The noted signal, to whatever acts on it now: the default ends the process, a
       program's own handler (invoke's) takes it as it would have. */
    raise(sig);
}

int cjob_interrupt_signal(void) { return interrupt_signal; }

int cjob_pidfd_open(pid_t pid) { return (int)syscall(434 /* pidfd_open */, pid, 0); }

long cjob_splice_to_file(int pipe_fd, int file_fd, long long *offset, unsigned long length) {
    loff_t at = (loff_t)*offset;
    ssize_t moved = splice(pipe_fd, NULL, file_fd, &at, length, SPLICE_F_MOVE | SPLICE_F_MORE);
    if (moved > 0) *offset = (long long)at;
    return (long)moved;
}

/* The agent's side of a monitor's name (JobMonitor.c is the monitor's). */
int cjob_monitor_connect(const char *name, pid_t *peer) {
    struct sockaddr_un address;
    socklen_t length;
    int problem = cjob_monitor_address(name, &address, &length);
    if (problem != 0) { errno = -problem; return -1; }
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&address, length) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    struct ucred cred;
    socklen_t size = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &size) != 0 || cred.uid != getuid()) {
        close(fd);
        errno = EPERM;
        return -1;
    }
    if (peer) *peer = cred.pid;
    return fd;
}

int cjob_monitor_send(int fd, uint32_t kind, int32_t value) {
    cjob_monitor_message message;
    memset(&message, 0, sizeof message);
    message.kind = kind;
    message.value = value;
    ssize_t n = send(fd, &message, sizeof message, MSG_DONTWAIT | MSG_NOSIGNAL);
    return n == (ssize_t)sizeof message ? 0 : -1;
}
