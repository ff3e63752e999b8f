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
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int read_full(int fd, void *buf, size_t len, int *passed_fd) {
    size_t got = 0;
    while (got < len) {
        struct iovec iov = { .iov_base = (char *)buf + got, .iov_len = len - got };
        struct msghdr msg;
        memset(&msg, 0, sizeof msg);
        char control[CMSG_SPACE(sizeof(int))];
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                int fd_in;
                memcpy(&fd_in, CMSG_DATA(c), sizeof fd_in);
                if (passed_fd && *passed_fd < 0) *passed_fd = fd_in; else close(fd_in);
            }
        }
        got += (size_t)n;
    }
    return 0;
}

/*
 * The supervisor: one small process per JOB_HOME that starts jobs for the agent. For each
 * launch it forks a monitor (JobMonitor.c), which forks and execs the job and stays its
 * parent; the job's process answers the launch on the agent's channel itself, before its exec
 * (or the monitor, when it could not start it), so the supervisor answers only a launch that
 * failed before its fork and goes on at once. It holds nothing of any job, so it may be
 * killed at any time and the agent starts another. Being small and single-threaded, it forks cheaply, which the
 * agent (threads, a database, a large address space) cannot. It is the subreaper of what its
 * monitors leave behind (the kernel reaps them, and the monitors: it ignores SIGCHLD), and
 * exits once no agent is connected and no child is left.
 *
 * Requests come over JOB_HOME/supervisor.sock from up to MAX_CHANNELS connections of its own
 * uid; a peer that stops halfway through a request is dropped after RECEIVE_TIMEOUT seconds.
 */

#define MAX_CHANNELS 8
#define RECEIVE_TIMEOUT 2

/* Launch message: header then NUL-terminated strings: the named ones (`cjob_launch_field`:
   program, cwd, stdout, stderr, the job's key, its monitor's name, the umask in decimal), then
   argc argv words, then the environment. */
typedef struct {
    uint32_t length;   /* bytes of strings after the header */
    uint32_t has_fd;   /* 0: stdin /dev/null; 1: the passed descriptor; 2: a pipe the monitor holds */
    uint64_t id;
    uint32_t argc;
    uint32_t envc;
} launch_header;

static int listener_fd = -1;
static int channels[MAX_CHANNELS];
static int channel_count;

/* A job's two output files, made ahead in the jobs folder as unnamed files (O_TMPFILE) and
   named at its launch: making a file costs up to a millisecond on some file systems (ext4
   without a journal searches past every recently deleted inode), and a link costs little.
   Made again once the supervisor has been idle a moment after a launch, so the cost falls
   between launches. A spare is only an open descriptor: nothing is left behind when the
   supervisor dies. */
static struct {
    char folder[PATH_MAX];
    int fds[2];
} spares = { "", { -1, -1 } };

/* The folder whose spares are to be made when the supervisor is next idle (`spares_due`). */
static char spares_due_folder[PATH_MAX];
static int spares_due;
/* How long the supervisor waits with nothing to do before it makes spares, in milliseconds.
   Launches that come closer together than that find none, and make their files at once: a
   spare costs more than a file made with O_CREAT (an unnamed inode, then its link: 21 against
   16 us of CPU a file here), which is worth it only where it takes the cost off a launch that
   something waits for, not when the files are made anyway between launches. */
#define SPARES_IDLE_MS 2

/* The memory of one request. Each page the supervisor writes after a fork is copied at that
   write, for the monitor just forked still shares it: the C library's heap spread a launch's
   strings and arrays over three pages and wrote its own records in a fourth. A request's
   memory comes from this area, reused by the next request (the first of it shares its page
   with `used`); a request too large for it gets the heap's. */
static struct {
    size_t used;
    char bytes[(1 << 16) - 64] __attribute__((aligned(64)));
} scratch __attribute__((aligned(4096)));

/* `size` zeroed bytes of the request's memory, or NULL. */
static void *request_memory(size_t size) {
    size_t rounded = (size + 15) & ~(size_t)15;
    if (rounded >= size && rounded <= sizeof scratch.bytes - scratch.used) {
        char *at = scratch.bytes + scratch.used;
        scratch.used += rounded;
        memset(at, 0, size);
        return at;
    }
    return calloc(1, size);
}

static void release_request_memory(void *at) {
    if (at && ((char *)at < scratch.bytes || (char *)at >= scratch.bytes + sizeof scratch.bytes)) free(at);
}

static void drop_spares(void) {
    for (int i = 0; i < 2; i++) {
        if (spares.fds[i] >= 0) close(spares.fds[i]);
        spares.fds[i] = -1;
    }
}

static void make_spares(const char *folder) {
    if (strlen(folder) >= sizeof spares.folder) return;
    if (strcmp(spares.folder, folder) != 0) {
        drop_spares();
        strcpy(spares.folder, folder);
    }
    for (int i = 0; i < 2; i++) {
        if (spares.fds[i] < 0) spares.fds[i] = open(folder, O_TMPFILE | O_WRONLY | O_APPEND | O_CLOEXEC, 0600);
    }
}

/* Whether a spare is named through its own descriptor (linkat with AT_EMPTY_PATH): until that
   fails where the link in /proc works (a kernel before 6.10, without CAP_DAC_READ_SEARCH). */
static int empty_path_links = 1;

/* Opens a job's output file: a spare named `path` when there is one for its folder, else
   a new file. */
static int open_output(const char *folder, const char *path, int which) {
    if (spares.fds[which] >= 0 && strcmp(spares.folder, folder) == 0) {
        int fd = spares.fds[which];
        spares.fds[which] = -1;
        /* The descriptor itself names the file (Linux 6.10 lets the process that opened it do
           this without privilege); else, as before, its link in /proc, which costs a walk
           through /proc for every file. */
        if (empty_path_links && linkat(fd, "", AT_FDCWD, path, AT_EMPTY_PATH) == 0) return fd;
        char link[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        if (linkat(AT_FDCWD, link, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0) {
            empty_path_links = 0;
            return fd;
        }
        close(fd);
    }
    return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
}

/* Room for one passed descriptor beside a message. */
typedef union {
    char bytes[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
} one_descriptor;

/* Passes `fd` (if not -1) with `msg`, in `control`. Only plain C (the job's process calls it
   before its exec, JobMonitor.c). */
static void attach_descriptor(struct msghdr *msg, one_descriptor *control, int fd) {
    if (fd < 0) return;
    for (size_t i = 0; i < sizeof control->bytes; i++) control->bytes[i] = 0;
    msg->msg_control = control->bytes;
    msg->msg_controllen = sizeof control->bytes;
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    cjs_memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
}

/* Sends a launch's answer: the job's own first act, or the supervisor's when the launch failed
   before there was a job. A short send is finished without the descriptor. */
void cjob_answer_launch(int channel, const cjob_supervisor_reply *reply, int passed) {
    struct iovec iov = { .iov_base = (void *)reply, .iov_len = sizeof *reply };
    struct msghdr msg = { 0 };
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    one_descriptor control;
    attach_descriptor(&msg, &control, passed);
    /* Directly: the job's process sends it, before its exec (JobMonitor.c says why). */
    long sent;
    do { sent = CJS_SYS3(SYS_sendmsg, channel, &msg, MSG_NOSIGNAL); } while (sent == -EINTR);
    for (size_t done = sent > 0 ? (size_t)sent : 0; sent >= 0 && done < sizeof *reply; done += (size_t)sent) {
        do {
            sent = CJS_SYS6(SYS_sendto, channel, (const char *)reply + done, sizeof *reply - done, MSG_NOSIGNAL, 0, 0);
        } while (sent == -EINTR);
        if (sent <= 0) break;
    }
}

static void launch(int agent, const launch_header *h, char *strings, int stdin_fd) {
    cjob_supervisor_reply reply;
    memset(&reply, 0, sizeof reply);
    reply.id = h->id;
    size_t count = CJOB_LAUNCH_NAMED + (size_t)h->argc + h->envc;
    char **fields = request_memory((count + 2) * sizeof(char *));
    char **argv = request_memory(((size_t)h->argc + 1) * sizeof(char *));
    char **envp = request_memory(((size_t)h->envc + 1) * sizeof(char *));
    int out_fd = -1, err_fd = -1, in_fd = stdin_fd, hold[2] = { -1, -1 }, link[2] = { -1, -1 };
    char *folder = NULL;
    char *cursor = strings, *end = strings + h->length;
    if (!fields || !argv || !envp) { reply.stage = CJOB_STAGE_RESOURCES; reply.error = ENOMEM; goto done; }
    for (size_t i = 0; i < count; i++) {
        if (cursor >= end) { reply.stage = CJOB_STAGE_RECORD; reply.error = EINVAL; goto done; }
        fields[i] = cursor;
        cursor += strlen(cursor) + 1;
    }
    for (uint32_t i = 0; i < h->argc; i++) argv[i] = fields[CJOB_LAUNCH_NAMED + i];
    for (uint32_t i = 0; i < h->envc; i++) envp[i] = fields[CJOB_LAUNCH_NAMED + h->argc + i];

    /* The usual reasons a launch fails are checked here, so that they are answered at once;
       the job itself is then started without waiting for its exec. */
    struct stat st;
    if (stat(fields[CJOB_LAUNCH_DIRECTORY], &st) != 0) { reply.stage = CJOB_STAGE_DIRECTORY; reply.error = errno; goto done; }
    if (!S_ISDIR(st.st_mode)) { reply.stage = CJOB_STAGE_DIRECTORY; reply.error = ENOTDIR; goto done; }
    if (access(fields[CJOB_LAUNCH_PROGRAM], X_OK) != 0) { reply.stage = CJOB_STAGE_EXEC; reply.error = errno; goto done; }
    for (size_t i = CJOB_LAUNCH_NAMED; i < count; i++) {
        if (strlen(fields[i]) >= 131072) { reply.stage = CJOB_STAGE_EXEC; reply.error = E2BIG; goto done; }
    }
    /* The folder of the output files: the monitor looks whether it still exists. */
    size_t stdout_length = strlen(fields[CJOB_LAUNCH_STDOUT]);
    folder = request_memory(stdout_length + 1);
    if (folder) memcpy(folder, fields[CJOB_LAUNCH_STDOUT], stdout_length + 1);
    char *slash = folder ? strrchr(folder, '/') : NULL;
    if (slash && slash != folder) *slash = 0;
    out_fd = open_output(folder ? folder : "", fields[CJOB_LAUNCH_STDOUT], 0);
    err_fd = out_fd < 0 ? -1 : open_output(folder ? folder : "", fields[CJOB_LAUNCH_STDERR], 1);
    if (in_fd < 0 && err_fd >= 0 && h->has_fd == 2) {
        if (pipe2(hold, O_CLOEXEC) == 0) in_fd = hold[0];
    } else if (in_fd < 0 && err_fd >= 0) {
        in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    if (out_fd < 0 || err_fd < 0 || in_fd < 0) { reply.stage = CJOB_STAGE_OUTPUT; reply.error = errno; goto done; }
    /* The agent's link to the monitor, made here and handed over with the answer: the agent
       need not connect by name, nor be greeted with what the answer says. */
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, link) != 0) {
        reply.stage = CJOB_STAGE_PIPE; reply.error = errno; goto done;
    }

    cjob_launch job = {
        .jobs_folder = folder ? folder : "/",
        .program = fields[CJOB_LAUNCH_PROGRAM], .working_directory = fields[CJOB_LAUNCH_DIRECTORY], .monitor_name = fields[CJOB_LAUNCH_MONITOR],
        .argv = argv, .envp = envp, .umask = (mode_t)(strtol(fields[CJOB_LAUNCH_UMASK], NULL, 10) & 0777),
        .stdin_fd = in_fd, .stdout_fd = out_fd, .stderr_fd = err_fd, .hold_fd = hold[1],
    };
    /* The system call itself, not the C library's fork: the new monitor then runs only its
       own code (JobMonitor.c says why), and writes none of the C library's pages, each of
       which a fork would copy at the first write. So the monitor must call nothing of the C
       library that knows which thread it is (its record of the thread id is the supervisor's):
       it makes its system calls directly. */
    pid_t monitor = (pid_t)CJS_SYS5(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (monitor == 0) {
        /* Nothing of the supervisor's stays open in the monitor, but the launching agent's
           channel, which it answers on; the spares are closed without a write to their
           record (its page is the supervisor's until then). */
        CJS_SYS1(SYS_close, listener_fd);
        for (int i = 0; i < channel_count; i++) {
            if (channels[i] != agent) CJS_SYS1(SYS_close, channels[i]);
        }
        for (int i = 0; i < 2; i++) {
            if (spares.fds[i] >= 0) CJS_SYS1(SYS_close, spares.fds[i]);
        }
        CJS_SYS3(SYS_fcntl, link[1], F_SETFL, O_NONBLOCK);
        cjob_launch_answer answer = { .channel = agent, .id = h->id, .agent_link = link[0] };
        cjob_monitor_run(&job, &answer, link[1]);
    }
    /* The job answers the launch itself, as its first act (or its monitor, when it could not
       start it): the supervisor need not wait for either, and goes on to the next request. */
    if (monitor < 0) { reply.stage = CJOB_STAGE_RESOURCES; reply.error = -monitor; }
done:
    if (hold[1] >= 0) close(hold[1]);
    if (out_fd >= 0) close(out_fd);
    if (err_fd >= 0) close(err_fd);
    if (in_fd >= 0) close(in_fd);
    if (link[0] >= 0) close(link[0]);
    if (link[1] >= 0) close(link[1]);
    release_request_memory(argv);
    release_request_memory(envp);
    release_request_memory(fields);
    if (agent >= 0 && reply.stage != 0) cjob_answer_launch(agent, &reply, -1);
    /* The next launch's files are made once the supervisor has been idle a moment
       (`serve`): not beside the job just launched and its client, which want the two cores
       now. */
    if (folder && reply.stage == 0 && strlen(folder) < sizeof spares.folder) {
        /* Written only when they change: each page written after a fork is copied. */
        if (strcmp(spares_due_folder, folder) != 0) strcpy(spares_due_folder, folder);
        if (!spares_due) spares_due = 1;
    }
    release_request_memory(folder);
}

static void drop_channel(int index) {
    close(channels[index]);
    channels[index] = channels[--channel_count];
}

/* Serves one request on channel `index`; drops the channel when it is gone or misbehaves. */
static void serve_request(int index) {
    int fd = channels[index];
    launch_header h;
    int passed = -1;
    if (read_full(fd, &h, sizeof h, &passed) != 0 || h.length > (64u << 20) || h.has_fd > 2
        || h.argc > (1u << 20) || h.envc > (1u << 20)) {
        if (passed >= 0) close(passed);
        drop_channel(index);
        return;
    }
    scratch.used = 0;
    char *strings = request_memory((size_t)h.length + 1);
    if (strings && read_full(fd, strings, h.length, &passed) == 0) {
        strings[h.length] = 0;
        launch(fd, &h, strings, h.has_fd == 1 ? passed : -1);
    } else {
        if (passed >= 0) close(passed);
        drop_channel(index);
    }
    release_request_memory(strings);
}

static void serve(void) {
    int ever_connected = 0;
    for (;;) {
        struct pollfd fds[1 + MAX_CHANNELS];
        fds[0] = (struct pollfd){ listener_fd, POLLIN, 0 };
        int count = channel_count;
        for (int i = 0; i < count; i++) fds[1 + i] = (struct pollfd){ channels[i], POLLIN, 0 };
        /* Monitors and orphans are reaped by the kernel (SIGCHLD is ignored), which wakes
           nobody: with no agent connected, whether any is left is looked at once a second. */
        int unattended = ever_connected && channel_count == 0;
        int ready = poll(fds, (nfds_t)(1 + count), spares_due ? SPARES_IDLE_MS : unattended ? 1000 : -1);
        if (ready < 0) {
            if (errno == EINTR) continue;
            _exit(1);
        }
        if (ready == 0 && spares_due) {
            spares_due = 0;
            make_spares(spares_due_folder);
        }
        /* From the last: dropping a channel moves the last one into its place. */
        for (int i = count - 1; i >= 0; i--) {
            if (fds[1 + i].revents) serve_request(i);
        }
        if (fds[0].revents) {
            int fd = accept4(listener_fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0) {
                struct ucred cred;
                socklen_t len = sizeof cred;
                struct timeval timeout = { RECEIVE_TIMEOUT, 0 };
                if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != getuid()
                    || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0) {
                    close(fd);
                } else {
                    if (channel_count == MAX_CHANNELS) drop_channel(0);
                    channels[channel_count++] = fd;
                    ever_connected = 1;
                }
            }
        }
        if (ever_connected && channel_count == 0 && waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD) _exit(0);
    }
}

pid_t cjob_supervisor_spawn(const char *socket_path, const char *executable) {
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(socket_path) >= sizeof addr.sun_path) { errno = ENAMETOOLONG; return -1; }
    strcpy(addr.sun_path, socket_path);
    unlink(socket_path);
    int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0) return -1;
    mode_t old = umask(0177);
    int rc = bind(listener, (struct sockaddr *)&addr, sizeof addr);
    umask(old);
    if (rc != 0 || listen(listener, 8) != 0) { int saved = errno; close(listener); errno = saved; return -1; }
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    char *const argv[] = { "job-agent", "supervise", NULL };
    volatile int failed = 0;
    pid_t pid = vfork();
    if (pid == 0) {
        setsid();
        cjob_reset_signals();
        int keep = fcntl(listener, F_DUPFD, 10);
        if (keep < 0 || null_fd < 0) { failed = errno; _exit(127); }
        dup2(null_fd, 0); dup2(null_fd, 1); dup2(null_fd, 2);
        dup2(keep, 3);
        syscall(436 /* close_range */, 4U, ~0U, 0U);
        execv(executable, argv);
        failed = errno;
        _exit(127);
    }
    int saved = errno;
    close(listener);
    if (null_fd >= 0) close(null_fd);
    if (pid < 0) { errno = saved; return -1; }
    if (failed) { while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {} errno = failed; return -1; }
    return pid;
}

/* The signals the supervisor ignores, and with it every monitor it forks: the only ones a job
   would otherwise inherit ignored across its exec (a caught signal is reset by exec itself), so
   the only ones its launch resets, not all 62. A monitor run by anything else resets them all. */
uint64_t cjob_supervisor_ignored = ~(uint64_t)0;

void cjob_supervisor_main(int listener) {
    signal(SIGPIPE, SIG_IGN);
    /* Its children (the monitors, and the jobs it adopts as the subreaper when a monitor is
       killed) are reaped by the kernel as they exit: no wake-up and no wait per job. Each
       monitor sets SIGCHLD back, to reap its job itself. */
    signal(SIGCHLD, SIG_IGN);
    cjob_supervisor_ignored = cjob_ignored_signals();
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    fcntl(listener, F_SETFD, FD_CLOEXEC);
    listener_fd = listener;
    serve();
    _exit(0);
}

int cjob_supervisor_connect(const char *socket_path) {
    int fd = cjob_unix_connect(socket_path);
    if (fd < 0) return -1;
    struct ucred cred;
    socklen_t len = sizeof cred;
    /* A launch is answered within milliseconds; a supervisor that does not answer in this
       long is stopped or stuck, and the agent starts another. */
    struct timeval timeout = { 10, 0 };
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != getuid()
        || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int cjob_supervisor_launch(int fd, uint64_t id, const char *strings, uint32_t length, uint32_t argc, uint32_t envc,
                           int stdin_fd, int hold_stdin, cjob_supervisor_reply *reply, int *link_fd) {
    launch_header h = { length, stdin_fd >= 0 ? 1u : (hold_stdin ? 2u : 0u), id, argc, envc };
    /* The header and the strings in one message: each message the supervisor takes in wakes
       whoever sleeps on this socket, which would be this thread, reading the answer. */
    struct iovec iov[2] = { { .iov_base = &h, .iov_len = sizeof h }, { .iov_base = (void *)strings, .iov_len = length } };
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;
    one_descriptor control;
    attach_descriptor(&msg, &control, stdin_fd);
    ssize_t sent;
    do { sent = sendmsg(fd, &msg, MSG_NOSIGNAL); } while (sent < 0 && errno == EINTR);
    if (sent < (ssize_t)sizeof h) return -1;
    size_t rest = sizeof h + (size_t)length - (size_t)sent;
    if (rest > 0 && cjob_write_all(fd, strings + (length - rest), rest) != rest) return -1;
    *link_fd = -1;
    /* Waited for with poll, which only data wakes: a read that sleeps on a stream socket is
       woken by every message of its own the peer takes in, and sleeps again. */
    struct pollfd wait = { fd, POLLIN, 0 };
    int ready;
    do { ready = poll(&wait, 1, 10000); } while (ready < 0 && errno == EINTR);
    if (ready == 0) { errno = EAGAIN; return -1; }
    return read_full(fd, reply, sizeof *reply, link_fd);
}
