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
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * The monitor: one small process per job, forked by the supervisor, that is the job's parent.
 * Its path, and its job's up to the exec, make their system calls directly (`CJS_SYS`, the
 * fast path's) and call nothing of the C library but fork's and vfork's own code: a forked
 * process maps again each page of code it runs (a fork copies no page tables of the program's
 * code), and the C library's functions lie in a dozen places of a 20 MB program, where the
 * monitor's own code is in one or two.
 * It holds what the job needs (a remote child's ssh stdin), reaps the job, and keeps its end
 * until an agent has stored it and said so. Nothing above it matters to the job: the agent and
 * the supervisor may both be killed and come back at any time.
 *
 * An agent finds it by name, an abstract Unix socket (no file, so a full disk cannot stop it):
 * `job-monitor/<uid>/<hash of JOB_HOME>/<InstanceId>`, SOCK_SEQPACKET, one fixed-size
 * `cjob_monitor_message` per packet, peers of another uid refused. On every connection the
 * monitor first says HELLO (the job's pid and start time), and END once the job has ended (at
 * once if it already has). The agent may send SIGNAL (to the job's process group), RELEASE
 * (close the held stdin: the remote side then ends the command), and ACK after END (the end is
 * stored: the monitor exits) or before it (the end is not wanted: exit when the job does).
 * Without an ACK the monitor waits, however long, for the next agent, unless the home's jobs
 * folder is gone (the home was deleted: nobody will ask), which it looks at when the job ends
 * and once a minute after.
 * A peer that sends anything else, or sends nothing, costs one slot of `MAX_PEERS`; when they
 * are all taken the oldest is dropped.
 */

#define MAX_PEERS 8

/* The program's own argument strings, to rename the monitor in place: ps and `pkill -f` then
   tell it from the supervisor it was forked from (`pkill -f 'job-agent supervise'` must not
   reach a monitor). glibc passes them to constructors; `job-agent supervise` runs from a
   constructor that comes before this one, and gives them itself. */
static char *arguments_start;
static size_t arguments_length;

void cjob_remember_arguments(int argc, char **argv) {
    if (argc < 1 || !argv || !argv[0]) return;
    arguments_start = argv[0];
    char *end = argv[argc - 1] + cjs_strlen(argv[argc - 1]);
    arguments_length = (size_t)(end - arguments_start);
}

__attribute__((constructor)) static void remember_arguments(int argc, char **argv, char **envp) {
    (void)envp;
    cjob_remember_arguments(argc, argv);
}

static void rename_process(const char *name) {
    CJS_SYS2(SYS_prctl, PR_SET_NAME, name);
    if (!arguments_start || arguments_length == 0) return;
    size_t length = cjs_strlen(name);
    for (size_t i = 0; i < arguments_length; i++) arguments_start[i] = i < length ? name[i] : 0;
}

static void message_send(int fd, const cjob_monitor_message *message) {
    /* A peer that cannot take 32 bytes is gone or stuck; the next poll drops it. */
    CJS_SYS6(SYS_sendto, fd, message, sizeof *message, MSG_DONTWAIT | MSG_NOSIGNAL, 0, 0);
}

/* The descriptors of the monitor, closed directly. */
static void close_fd(int fd) { CJS_SYS1(SYS_close, fd); }

/* The start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), which
   tells it from a later process that gets the same pid. Only system calls and plain C (no
   stdio), as the child of a vfork may use it. */
int64_t cjob_process_start_time(pid_t pid) {
    char path[64] = "/proc/", digits[16], text[1024];
    int count = 0;
    for (unsigned value = (unsigned)pid; count == 0 || value > 0; value /= 10) digits[count++] = (char)('0' + value % 10);
    size_t at = 6;
    while (count > 0) path[at++] = digits[--count];
    cjs_memcpy(path + at, "/stat", sizeof "/stat");
    long fd = CJS_SYS4(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return -1;
    long n = CJS_SYS3(SYS_read, fd, text, sizeof text - 1);
    close_fd((int)fd);
    if (n <= 0) return -1;
    /* The command's name, in parentheses, may hold anything: the fields follow the last ")".
       After ") " comes field 3 (the state); the start time is field 22. */
    long at_field = n - 1;
    while (at_field >= 0 && text[at_field] != ')') at_field--;
    if (at_field < 0) return -1;
    for (int field = 2; field < 22; at_field++) {
        if (at_field >= n) return -1;
        if (text[at_field] == ' ') field++;
    }
    int64_t value = 0;
    int digits_seen = 0;
    for (; at_field < n && text[at_field] >= '0' && text[at_field] <= '9'; at_field++, digits_seen++)
        value = value * 10 + (text[at_field] - '0');
    return digits_seen > 0 ? value : -1;
}

int cjob_monitor_address(const char *name, struct sockaddr_un *address, socklen_t *length) {
    size_t size = cjs_strlen(name);
    if (size + 1 >= sizeof address->sun_path) return -ENAMETOOLONG;
    unsigned char *bytes = (unsigned char *)address;
    for (size_t i = 0; i < sizeof *address; i++) bytes[i] = 0;
    address->sun_family = AF_UNIX;
    /* sun_path[0] stays 0: the abstract namespace. */
    cjs_memcpy(address->sun_path + 1, name, size);
    *length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + size);
    return 0;
}

int cjob_monitor_receive(int fd, cjob_monitor_message *message) {
    long n;
    do { n = CJS_SYS6(SYS_recvfrom, fd, message, sizeof *message, MSG_DONTWAIT, 0, 0); } while (n == -EINTR);
    if (n == -EAGAIN || n == -EWOULDBLOCK) return 1;
    return n == (long)sizeof *message ? 0 : -1;
}

typedef struct {
    pid_t pid;
    int64_t start_time;
    int hold_fd;  /* write end of the job's stdin, held until released (remote jobs) */
    int failed_stage, failed_errno;  /* the step that failed before exec (0: none) */
    int ended;
    int released;       /* an agent said no end need be kept: exit at the end */
    const char *folder; /* the jobs folder: once it is gone (the home deleted), nobody will ask */
    cjob_monitor_message end;
} monitored_job;

static void record_end(monitored_job *job, int status) {
    struct timespec now = { 0, 0 };
    /* The system call, not the vDSO: two pages fewer to map in a new process. */
    CJS_SYS2(SYS_clock_gettime, CLOCK_REALTIME, &now);
    job->end = (cjob_monitor_message){ 0 };
    job->end.kind = CJOB_MONITOR_END;
    job->end.time_sec = now.tv_sec;
    job->end.time_nsec = now.tv_nsec;
    if (job->failed_stage != 0) {
        job->end.how = CJOB_END_LAUNCH;
        job->end.value = job->failed_stage;
        job->end.error = job->failed_errno;
    } else if (WIFSIGNALED(status)) {
        job->end.how = CJOB_END_SIGNAL;
        job->end.value = WTERMSIG(status);
    } else {
        job->end.how = CJOB_END_EXIT;
        job->end.value = WEXITSTATUS(status);
    }
    job->ended = 1;
    if (job->hold_fd >= 0) { close_fd(job->hold_fd); job->hold_fd = -1; }
}

/* The names a remote side's `kill -s` knows, by number (sigabbrev_np's, without the C library). */
static const char *const signal_names[65] = {
    [SIGHUP] = "HUP", [SIGINT] = "INT", [SIGQUIT] = "QUIT", [SIGILL] = "ILL", [SIGTRAP] = "TRAP",
    [SIGABRT] = "ABRT", [SIGBUS] = "BUS", [SIGFPE] = "FPE", [SIGKILL] = "KILL", [SIGUSR1] = "USR1",
    [SIGSEGV] = "SEGV", [SIGUSR2] = "USR2", [SIGPIPE] = "PIPE", [SIGALRM] = "ALRM", [SIGTERM] = "TERM",
#ifdef SIGSTKFLT
    [SIGSTKFLT] = "STKFLT",
#endif
    [SIGCHLD] = "CHLD", [SIGCONT] = "CONT", [SIGSTOP] = "STOP", [SIGTSTP] = "TSTP", [SIGTTIN] = "TTIN",
    [SIGTTOU] = "TTOU", [SIGURG] = "URG", [SIGXCPU] = "XCPU", [SIGXFSZ] = "XFSZ", [SIGVTALRM] = "VTALRM",
    [SIGPROF] = "PROF", [SIGWINCH] = "WINCH", [SIGIO] = "POLL", [SIGPWR] = "PWR", [SIGSYS] = "SYS",
};

/* Asks the remote side to send a signal: its name, a line on ssh's stdin. A line that does not
   fit in the pipe at once is dropped rather than waited for (the remote side reads all the
   time; a full pipe means the link is stuck, and the stop that follows closes it). */
static void forward_signal(monitored_job *job, int32_t value) {
    const char *name = value > 0 && value < 65 ? signal_names[value] : NULL;
    if (job->hold_fd < 0 || !name) return;
    char line[16];
    size_t length = 0;
    while (name[length] && length < sizeof line - 1) {
        line[length] = name[length];
        length++;
    }
    line[length++] = '\n';
    long flags = CJS_SYS2(SYS_fcntl, job->hold_fd, F_GETFL);
    CJS_SYS3(SYS_fcntl, job->hold_fd, F_SETFL, flags | O_NONBLOCK);
    long written;
    do { written = CJS_SYS3(SYS_write, job->hold_fd, line, length); } while (written == -EINTR);
    CJS_SYS3(SYS_fcntl, job->hold_fd, F_SETFL, flags);
}

static void greet(int fd, const monitored_job *job) {
    cjob_monitor_message hello = { 0 };
    hello.kind = CJOB_MONITOR_HELLO;
    hello.pid = job->pid;
    hello.time_sec = job->start_time;
    message_send(fd, &hello);
    if (job->ended) message_send(fd, &job->end);
}

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

/* Here, beside the job's launch that calls it, so that its code is in the page the launch maps
   anyway; used by every other spawn too. */
void cjob_close_from(int first, int cloexec_only) {
    if (CJS_SYS3(SYS_close_range, (unsigned)first, ~0U, cloexec_only ? CLOSE_RANGE_CLOEXEC : 0) == 0) return;
    /* A kernel before 5.11: each descriptor up to the limit. */
    struct { uint64_t current, maximum; } limit = { 65536, 65536 };
    CJS_SYS4(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, &limit);
    long max = limit.current > 65536 ? 65536 : (long)limit.current;
    for (int fd = first; fd < max; fd++) {
        if (cloexec_only) CJS_SYS3(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC); else CJS_SYS1(SYS_close, fd);
    }
}

/* Also beside the launch; see cjob_close_from. */
void cjob_reset_signals_in(uint64_t signals) {
    struct kernel_sigaction sa = { 0 };
    /* Straight to the kernel: glibc refuses the two real-time signals it keeps for itself,
       and an ignored one would stay ignored across exec. */
    for (int sig = 1; sig <= 64; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP || !(signals >> (sig - 1) & 1)) continue;
        CJS_SYS4(SYS_rt_sigaction, sig, &sa, 0, sizeof(uint64_t));
    }
    uint64_t none = 0;
    CJS_SYS4(SYS_rt_sigprocmask, SIG_SETMASK, &none, 0, sizeof none);
}

/* Ends the monitor. */
__attribute__((noreturn)) static void leave(int status) {
    for (;;) CJS_SYS1(SYS_exit_group, status);
}

/* Whether the home's jobs folder is still there (nobody will ask for an end once it is gone). */
static int folder_exists(const char *folder) { return CJS_SYS4(SYS_faccessat, AT_FDCWD, folder, F_OK, 0) == 0; }

/* Serves agents until one acknowledges the job's end. Never returns. `link` (or -1) is the
   launching agent's connection, made by the supervisor with the monitor: that agent has the
   pid and start time from the launch's answer, so it is not greeted. */
static void monitor_loop(int listener, int link, monitored_job *job) __attribute__((noreturn));
static void monitor_loop(int listener, int link, monitored_job *job) {
    uint64_t chld = (uint64_t)1 << (SIGCHLD - 1);
    CJS_SYS4(SYS_rt_sigprocmask, SIG_BLOCK, &chld, 0, sizeof chld);
    int sigfd = (int)CJS_SYS4(SYS_signalfd4, -1, &chld, sizeof chld, SFD_CLOEXEC | SFD_NONBLOCK);
    int peers[MAX_PEERS];
    int peer_count = 0;
    if (link >= 0) peers[peer_count++] = link;
    for (;;) {
        /* The job may have ended before the signalfd existed. */
        int status;
        pid_t reaped;
        while ((reaped = (pid_t)CJS_SYS4(SYS_wait4, -1, &status, WNOHANG, 0)) > 0) {
            if (reaped == job->pid && !job->ended) {
                record_end(job, status);
                for (int i = 0; i < peer_count; i++) message_send(peers[i], &job->end);
                if (job->released || !folder_exists(job->folder)) leave(0);
            }
        }
        struct pollfd fds[2 + MAX_PEERS];
        fds[0] = (struct pollfd){ listener, POLLIN, 0 };
        fds[1] = (struct pollfd){ sigfd, POLLIN, 0 };
        for (int i = 0; i < peer_count; i++) fds[2 + i] = (struct pollfd){ peers[i], POLLIN, 0 };
        int count = peer_count;
        /* An end nobody has collected: once a minute, look whether the home still exists. */
        struct timespec minute = { 60, 0 };
        long ready = CJS_SYS5(SYS_ppoll, fds, 2 + count, job->ended ? &minute : 0, 0, 8);
        if (ready < 0) {
            if (ready == -EINTR) continue;
            leave(1);
        }
        if (ready == 0) {
            if (!folder_exists(job->folder)) leave(0);
            continue;
        }
        if (fds[1].revents) {
            struct signalfd_siginfo info;
            while (CJS_SYS3(SYS_read, sigfd, &info, sizeof info) > 0) {}
        }
        for (int i = count - 1; i >= 0; i--) {
            if (!fds[2 + i].revents) continue;
            cjob_monitor_message message;
            int drop = cjob_monitor_receive(peers[i], &message) < 0;
            if (!drop && (fds[2 + i].revents & POLLIN)) {
                switch (message.kind) {
                case CJOB_MONITOR_ACK:
                    /* Before the end: the job's end is not wanted (it is finished or removed in
                       the store), so the monitor exits as soon as the job does. */
                    if (job->ended) leave(0);
                    job->released = 1;
                    break;
                case CJOB_MONITOR_SIGNAL:
                    /* Also after the end: what the job left running in its group. Right after
                       the launch the job may not have made its group yet (setsid): then the
                       signal goes to the job itself, or it would be lost. */
                    if (message.value > 0 && message.value < 65
                        && CJS_SYS2(SYS_kill, -job->pid, message.value) == -ESRCH)
                        CJS_SYS2(SYS_kill, job->pid, message.value);
                    break;
                case CJOB_MONITOR_RELEASE:
                    if (job->hold_fd >= 0) { close_fd(job->hold_fd); job->hold_fd = -1; }
                    break;
                case CJOB_MONITOR_FORWARD:
                    forward_signal(job, message.value);
                    break;
                default:
                    drop = 1;
                }
            }
            if (drop || (fds[2 + i].revents & (POLLHUP | POLLERR))) {
                close_fd(peers[i]);
                /* In order: the first is the oldest, which a full table drops. (Moving the last
                   into the gap made a newer peer the "oldest" whenever one had gone before.) */
                for (int j = i + 1; j < peer_count; j++) peers[j - 1] = peers[j];
                peer_count--;
            }
        }
        if (fds[0].revents) {
            int fd = (int)CJS_SYS4(SYS_accept4, listener, 0, 0, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd >= 0) {
                struct ucred cred;
                socklen_t size = sizeof cred;
                if (CJS_SYS5(SYS_getsockopt, fd, SOL_SOCKET, SO_PEERCRED, &cred, &size) != 0
                    || cred.uid != (uid_t)CJS_SYS0(SYS_getuid)) {
                    close_fd(fd);
                } else {
                    if (peer_count == MAX_PEERS) {
                        close_fd(peers[0]);
                        for (int i = 1; i < MAX_PEERS; i++) peers[i - 1] = peers[i];
                        peer_count--;
                    }
                    peers[peer_count++] = fd;
                    greet(fd, job);
                }
            }
        }
    }
}

/* The job's side of its launch, in the child of a vfork (on the monitor's memory, below its
   stack frame): only system calls until the exec, or the step that failed and its errno left
   in `failure` (the monitor's: a vfork parent resumes only once its child has exec'd or
   exited, so it reads them then, with no pipe to tell it), then exit. Its first act answers
   the launch, on the agent's channel, with its pid and start time and the agent's end of the
   link, so that neither the supervisor nor the agent need wait for the exec, nor the
   supervisor for the answer: a step that fails after it is the job's end
   (CJOB_END_LAUNCH), as a failed exec always was. The start time is read here, where the
   process surely exists, and left in `start_time` (the monitor's, whose memory a vfork child
   shares) for the monitor's greetings. */
__attribute__((noreturn, noinline)) static void become_job(const cjob_launch *launch, volatile int *failure,
                                                           const cjob_launch_answer *answer,
                                                           volatile int64_t *start_time) {
    pid_t self = (pid_t)CJS_SYS0(SYS_getpid);
    cjob_supervisor_reply reply = { 0 };
    reply.id = answer->id;
    reply.pid = self;
    reply.monitor_pid = (int32_t)CJS_SYS0(SYS_getppid);
    reply.start_time = cjob_process_start_time(self);
    *start_time = reply.start_time;
    cjob_answer_launch(answer->channel, &reply, answer->agent_link);
    CJS_SYS0(SYS_setsid);
    cjob_reset_signals_in(cjob_supervisor_ignored);
    CJS_SYS1(SYS_umask, launch->umask);
    long result = CJS_SYS1(SYS_chdir, launch->working_directory);
    if (result != 0) {
        failure[0] = CJOB_STAGE_DIRECTORY; failure[1] = (int)-result;
    } else {
        /* Descriptors above 2 go straight to 0, 1 and 2; one among them is first moved up,
           so that no dup overwrites a descriptor still to be copied. */
        int low = launch->stdin_fd <= 2 || launch->stdout_fd <= 2 || launch->stderr_fd <= 2;
        long in_high = low ? CJS_SYS3(SYS_fcntl, launch->stdin_fd, F_DUPFD_CLOEXEC, 3) : launch->stdin_fd;
        long out_high = low ? CJS_SYS3(SYS_fcntl, launch->stdout_fd, F_DUPFD_CLOEXEC, 3) : launch->stdout_fd;
        long err_high = low ? CJS_SYS3(SYS_fcntl, launch->stderr_fd, F_DUPFD_CLOEXEC, 3) : launch->stderr_fd;
        if (in_high < 0) result = in_high;
        else if (out_high < 0) result = out_high;
        else if (err_high < 0) result = err_high;
        /* dup3, which every architecture has: each descriptor here is above 2, so never the same. */
        else if ((result = CJS_SYS3(SYS_dup3, in_high, 0, 0)) >= 0 && (result = CJS_SYS3(SYS_dup3, out_high, 1, 0)) >= 0)
            result = CJS_SYS3(SYS_dup3, err_high, 2, 0);
        if (result < 0) {
            failure[0] = CJOB_STAGE_OUTPUT; failure[1] = (int)-result;
        } else {
            cjob_close_from(3, 1);
            result = CJS_SYS3(SYS_execve, launch->program, launch->argv, launch->envp);
            failure[0] = CJOB_STAGE_EXEC; failure[1] = (int)-result;
        }
    }
    leave(127);
}

/* The monitor's answer to a launch it could not start the job of: the step and its errno. */
__attribute__((noreturn)) static void launch_failed(const cjob_launch_answer *answer, int stage, int error) {
    cjob_supervisor_reply reply = { 0 };
    reply.id = answer->id;
    reply.stage = stage;
    reply.error = error;
    cjob_answer_launch(answer->channel, &reply, -1);
    leave(127);
}

void cjob_monitor_run(const cjob_launch *launch, const cjob_launch_answer *answer, int link_fd) {
    /* The supervisor ignores SIGCHLD (its children are reaped by the kernel); the monitor
       waits for its job itself. */
    struct kernel_sigaction default_action = { 0 };
    CJS_SYS4(SYS_rt_sigaction, SIGCHLD, &default_action, 0, sizeof(uint64_t));
    CJS_SYS0(SYS_setsid);
    rename_process("job-monitor");
    struct sockaddr_un address;
    socklen_t length;
    long listener = CJS_SYS3(SYS_socket, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (listener < 0) launch_failed(answer, CJOB_STAGE_MONITOR, (int)-listener);
    long problem = cjob_monitor_address(launch->monitor_name, &address, &length);
    if (problem == 0) problem = CJS_SYS3(SYS_bind, listener, &address, length);
    if (problem == 0) problem = CJS_SYS2(SYS_listen, listener, 8);
    if (problem != 0) launch_failed(answer, CJOB_STAGE_MONITOR, (int)-problem);
    /* vfork: the child makes only system calls until its exec, so it need not copy the
       monitor's page tables, nor tear the copy down again at its exec; the monitor waits the
       moment until then, and finds in `failure` the step that failed, if one did. */
    volatile int64_t start_time = 0;
    volatile int failure[2] = { 0, 0 };
    pid_t pid = vfork();
    if (pid == 0) become_job(launch, failure, answer, &start_time);
    if (pid < 0) launch_failed(answer, CJOB_STAGE_RESOURCES, errno);
    /* The answer went: the agent's channel and its end of the link are its own now. */
    close_fd(answer->channel);
    close_fd(answer->agent_link);
    monitored_job job = { 0 };
    job.pid = pid;
    job.failed_stage = failure[0];
    job.failed_errno = failure[1];
    job.hold_fd = launch->hold_fd;
    job.folder = launch->jobs_folder;
    close_fd(launch->stdin_fd);
    close_fd(launch->stdout_fd);
    close_fd(launch->stderr_fd);
    job.start_time = start_time > 0 ? start_time : cjob_process_start_time(pid);
    monitor_loop((int)listener, link_fd, &job);
}
