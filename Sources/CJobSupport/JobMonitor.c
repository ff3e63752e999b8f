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
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * The monitor: one small process per job, forked by the supervisor, that is the job's parent.
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
   tell it from the supervisor it was forked from. glibc passes them to constructors. */
static char *arguments_start;
static size_t arguments_length;

__attribute__((constructor)) static void remember_arguments(int argc, char **argv, char **envp) {
    (void)envp;
    if (argc < 1 || !argv || !argv[0]) return;
    arguments_start = argv[0];
    char *end = argv[argc - 1] + strlen(argv[argc - 1]);
    arguments_length = (size_t)(end - arguments_start);
}

static void rename_process(const char *name) {
    prctl(PR_SET_NAME, name, 0, 0, 0);
    if (!arguments_start || arguments_length == 0) return;
    memset(arguments_start, 0, arguments_length);
    strncpy(arguments_start, name, arguments_length);
}

static void message_send(int fd, const cjob_monitor_message *message) {
    if (send(fd, message, sizeof *message, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)sizeof *message) {
        /* A peer that cannot take 32 bytes is gone or stuck; the next poll drops it. */
    }
}

/* The start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), which
   tells it from a later process that gets the same pid. Only system calls and plain C (no
   stdio), as the child of a vfork may use it. */
int64_t cjob_process_start_time(pid_t pid) {
    char path[64] = "/proc/", digits[16], text[1024];
    int count = 0;
    for (unsigned value = (unsigned)pid; count == 0 || value > 0; value /= 10) digits[count++] = (char)('0' + value % 10);
    size_t at = strlen(path);
    while (count > 0) path[at++] = digits[--count];
    memcpy(path + at, "/stat", sizeof "/stat");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0) return -1;
    text[n] = 0;
    char *field = strrchr(text, ')');
    if (!field) return -1;
    /* After ") " comes field 3 (the state); the start time is field 22. */
    for (int i = 3; i <= 22; i++) {
        field = strchr(field, ' ');
        if (!field) return -1;
        field++;
    }
    return strtoll(field, NULL, 10);
}

int cjob_monitor_address(const char *name, struct sockaddr_un *address, socklen_t *length) {
    size_t size = strlen(name);
    if (size + 1 >= sizeof address->sun_path) { errno = ENAMETOOLONG; return -1; }
    memset(address, 0, sizeof *address);
    address->sun_family = AF_UNIX;
    /* sun_path[0] stays 0: the abstract namespace. */
    memcpy(address->sun_path + 1, name, size);
    *length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + size);
    return 0;
}

int cjob_monitor_connect(const char *name, pid_t *peer) {
    struct sockaddr_un address;
    socklen_t length;
    if (cjob_monitor_address(name, &address, &length) != 0) return -1;
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

int cjob_monitor_receive(int fd, cjob_monitor_message *message) {
    ssize_t n;
    do { n = recv(fd, message, sizeof *message, MSG_DONTWAIT); } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 1;
    return n == (ssize_t)sizeof *message ? 0 : -1;
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
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    memset(&job->end, 0, sizeof job->end);
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
    if (job->hold_fd >= 0) { close(job->hold_fd); job->hold_fd = -1; }
}

/* Asks the remote side to send a signal: its name, a line on ssh's stdin. A line that does not
   fit in the pipe at once is dropped rather than waited for (the remote side reads all the
   time; a full pipe means the link is stuck, and the stop that follows closes it). */
static void forward_signal(monitored_job *job, int32_t value) {
    const char *name = value > 0 && value < 65 ? sigabbrev_np(value) : NULL;
    if (job->hold_fd < 0 || !name) return;
    char line[32];
    int length = snprintf(line, sizeof line, "%s\n", name);
    if (length <= 0 || length >= (int)sizeof line) return;
    int flags = fcntl(job->hold_fd, F_GETFL);
    fcntl(job->hold_fd, F_SETFL, flags | O_NONBLOCK);
    ssize_t written;
    do { written = write(job->hold_fd, line, (size_t)length); } while (written < 0 && errno == EINTR);
    fcntl(job->hold_fd, F_SETFL, flags);
}

static void greet(int fd, const monitored_job *job) {
    cjob_monitor_message hello;
    memset(&hello, 0, sizeof hello);
    hello.kind = CJOB_MONITOR_HELLO;
    hello.pid = job->pid;
    hello.time_sec = job->start_time;
    message_send(fd, &hello);
    if (job->ended) message_send(fd, &job->end);
}

/* Serves agents until one acknowledges the job's end. Never returns. `link` (or -1) is the
   launching agent's connection, made by the supervisor with the monitor: that agent has the
   pid and start time from the launch's answer, so it is not greeted. */
static void monitor_loop(int listener, int link, monitored_job *job) __attribute__((noreturn));
static void monitor_loop(int listener, int link, monitored_job *job) {
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    int peers[MAX_PEERS];
    int peer_count = 0;
    if (link >= 0) peers[peer_count++] = link;
    for (;;) {
        /* The job may have ended before the signalfd existed. */
        int status;
        pid_t reaped;
        while ((reaped = waitpid(-1, &status, WNOHANG)) > 0) {
            if (reaped == job->pid && !job->ended) {
                record_end(job, status);
                for (int i = 0; i < peer_count; i++) message_send(peers[i], &job->end);
                if (job->released || access(job->folder, F_OK) != 0) _exit(0);
            }
        }
        struct pollfd fds[2 + MAX_PEERS];
        fds[0] = (struct pollfd){ listener, POLLIN, 0 };
        fds[1] = (struct pollfd){ sigfd, POLLIN, 0 };
        for (int i = 0; i < peer_count; i++) fds[2 + i] = (struct pollfd){ peers[i], POLLIN, 0 };
        int count = peer_count;
        /* An end nobody has collected: once a minute, look whether the home still exists. */
        int ready = poll(fds, (nfds_t)(2 + count), job->ended ? 60000 : -1);
        if (ready < 0) {
            if (errno == EINTR) continue;
            _exit(1);
        }
        if (ready == 0) {
            if (access(job->folder, F_OK) != 0) _exit(0);
            continue;
        }
        if (fds[1].revents) {
            struct signalfd_siginfo info;
            while (read(sigfd, &info, sizeof info) > 0) {}
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
                    if (job->ended) _exit(0);
                    job->released = 1;
                    break;
                case CJOB_MONITOR_SIGNAL:
                    /* Also after the end: what the job left running in its group. Right after
                       the launch the job may not have made its group yet (setsid): then the
                       signal goes to the job itself, or it would be lost. */
                    if (message.value > 0 && message.value < 65 && kill(-job->pid, message.value) != 0
                        && errno == ESRCH)
                        kill(job->pid, message.value);
                    break;
                case CJOB_MONITOR_RELEASE:
                    if (job->hold_fd >= 0) { close(job->hold_fd); job->hold_fd = -1; }
                    break;
                case CJOB_MONITOR_FORWARD:
                    forward_signal(job, message.value);
                    break;
                default:
                    drop = 1;
                }
            }
            if (drop || (fds[2 + i].revents & (POLLHUP | POLLERR))) {
                close(peers[i]);
                peers[i] = peers[--peer_count];
            }
        }
        if (fds[0].revents) {
            int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd >= 0) {
                struct ucred cred;
                socklen_t size = sizeof cred;
                if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &size) != 0 || cred.uid != getuid()) {
                    close(fd);
                } else {
                    if (peer_count == MAX_PEERS) {
                        close(peers[0]);
                        memmove(peers, peers + 1, sizeof(int) * (MAX_PEERS - 1));
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
    pid_t self = getpid();
    cjob_supervisor_reply reply;
    memset(&reply, 0, sizeof reply);
    reply.id = answer->id;
    reply.pid = self;
    reply.monitor_pid = getppid();
    reply.start_time = cjob_process_start_time(self);
    *start_time = reply.start_time;
    cjob_answer_launch(answer->channel, &reply, answer->agent_link);
    setsid();
    cjob_reset_signals_in(cjob_supervisor_ignored);
    umask(launch->umask);
    if (chdir(launch->working_directory) != 0) {
        failure[0] = CJOB_STAGE_DIRECTORY; failure[1] = errno;
    } else {
        /* Descriptors above 2 go straight to 0, 1 and 2; one among them is first moved up,
           so that no dup2 overwrites a descriptor still to be copied. */
        int low = launch->stdin_fd <= 2 || launch->stdout_fd <= 2 || launch->stderr_fd <= 2;
        int in_high = low ? fcntl(launch->stdin_fd, F_DUPFD_CLOEXEC, 3) : launch->stdin_fd;
        int out_high = low ? fcntl(launch->stdout_fd, F_DUPFD_CLOEXEC, 3) : launch->stdout_fd;
        int err_high = low ? fcntl(launch->stderr_fd, F_DUPFD_CLOEXEC, 3) : launch->stderr_fd;
        if (in_high < 0 || out_high < 0 || err_high < 0 || dup2(in_high, 0) < 0 || dup2(out_high, 1) < 0
            || dup2(err_high, 2) < 0) {
            failure[0] = CJOB_STAGE_OUTPUT; failure[1] = errno;
        } else {
            cjob_close_from(3, 1);
            execve(launch->program, launch->argv, launch->envp);
            failure[0] = CJOB_STAGE_EXEC; failure[1] = errno;
        }
    }
    _exit(127);
}

/* The monitor's answer to a launch it could not start the job of: the step and its errno. */
__attribute__((noreturn)) static void launch_failed(const cjob_launch_answer *answer, int stage, int error) {
    cjob_supervisor_reply reply;
    memset(&reply, 0, sizeof reply);
    reply.id = answer->id;
    reply.stage = stage;
    reply.error = error;
    cjob_answer_launch(answer->channel, &reply, -1);
    _exit(127);
}

void cjob_monitor_run(const cjob_launch *launch, const cjob_launch_answer *answer, int link_fd) {
    /* The supervisor ignores SIGCHLD (its children are reaped by the kernel); the monitor
       waits for its job itself. */
    signal(SIGCHLD, SIG_DFL);
    setsid();
    rename_process("job-monitor");
    struct sockaddr_un address;
    socklen_t length;
    int listener = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (listener < 0 || cjob_monitor_address(launch->monitor_name, &address, &length) != 0
        || bind(listener, (struct sockaddr *)&address, length) != 0 || listen(listener, 8) != 0) {
        launch_failed(answer, CJOB_STAGE_MONITOR, errno);
    }
    /* vfork: the child makes only system calls until its exec, so it need not copy the
       monitor's page tables, nor tear the copy down again at its exec; the monitor waits the
       moment until then, and finds in `failure` the step that failed, if one did. */
    volatile int64_t start_time = 0;
    volatile int failure[2] = { 0, 0 };
    pid_t pid = vfork();
    if (pid == 0) become_job(launch, failure, answer, &start_time);
    if (pid < 0) launch_failed(answer, CJOB_STAGE_RESOURCES, errno);
    /* The answer went: the agent's channel and its end of the link are its own now. */
    close(answer->channel);
    close(answer->agent_link);
    monitored_job job;
    memset(&job, 0, sizeof job);
    job.pid = pid;
    job.failed_stage = failure[0];
    job.failed_errno = failure[1];
    job.hold_fd = launch->hold_fd;
    job.folder = launch->jobs_folder;
    close(launch->stdin_fd);
    close(launch->stdout_fd);
    close(launch->stderr_fd);
    job.start_time = start_time > 0 ? start_time : cjob_process_start_time(pid);
    monitor_loop(listener, link_fd, &job);
}
