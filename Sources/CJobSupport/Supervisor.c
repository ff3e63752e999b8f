#define _GNU_SOURCE
#include "CJobSupport.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * The supervisor: one small process per JOB_HOME that is the parent (and subreaper) of
 * every job. The agent asks it to launch jobs; it starts each with vfork+exec (so no copy
 * of a large address space is made per job), reaps them, writes each job's status file
 * atomically, and reports each end to the agent when one is connected. It outlives agent
 * restarts: a new agent connects to it again through JOB_HOME/supervisor.sock. It exits
 * once no agent is connected and no job is left.
 */

typedef struct {
    pid_t pid;
    uint64_t id;
    char *key;
    char *log_path;
    int exec_fd;       /* read end of the child's close-on-exec pipe until exec is known */
    int hold_fd;       /* write end of the child's stdin, held open until released (remote jobs) */
    int failed_stage;  /* the step that failed after fork (0: none) and its errno */
    int failed_errno;
} sup_job;

static sup_job *jobs;
static size_t job_count, job_capacity;

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

static int write_full(int fd, const void *buf, size_t len) {
    size_t done = 0;
    while (done < len) {
        ssize_t n = send(fd, (const char *)buf + done, len - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        done += (size_t)n;
    }
    return 0;
}

/* Appends a job's end to the exit log in one write, so the next agent learns it even when
   no agent was connected to hear the event. */
static void log_end(const sup_job *job, const char *kind, int value, int extra) {
    char text[256];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int len = snprintf(text, sizeof text, "%s %s %d %d %lld %ld\n", job->key, kind, value, extra,
                       (long long)now.tv_sec, now.tv_nsec);
    if (len <= 0 || len >= (int)sizeof text) return;
    int fd = open(job->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return;
    ssize_t ignored = write(fd, text, (size_t)len);
    (void)ignored;
    close(fd);
}

/* Reads what a child wrote on its exec pipe: nothing (exec happened) or the failed step. */
static void settle_exec(sup_job *job) {
    if (job->exec_fd < 0) return;
    int failure[2];
    ssize_t got;
    do { got = read(job->exec_fd, failure, sizeof failure); } while (got < 0 && errno == EINTR);
    if (got < 0 && errno == EAGAIN) return;
    if (got == (ssize_t)sizeof failure) {
        job->failed_stage = failure[0];
        job->failed_errno = failure[1];
    }
    close(job->exec_fd);
    job->exec_fd = -1;
}

/* Launch message: header then `count` NUL-terminated strings: shell, cwd, stdout, stderr,
   the job's key (its InstanceId), the exit log and the umask (decimal), then argc argv words,
   then the environment. */
typedef struct {
    uint32_t length;   /* bytes of strings after the header */
    uint32_t has_fd;   /* 0: stdin /dev/null; 1: the passed descriptor; 2: a pipe held here;
                          3: not a launch but a release of job `id`'s held stdin */
    uint64_t id;
    uint32_t argc;
    uint32_t envc;
} launch_header;

static void launch(int agent, const launch_header *h, char *strings, int stdin_fd) {
    cjob_supervisor_reply reply = { h->id, 0, 0, 0, 0 };
    size_t count = 7 + h->argc + h->envc;
    char **fields = calloc(count + 2, sizeof(char *));
    char **argv = NULL, **envp = NULL;
    int out_fd = -1, err_fd = -1, in_fd = stdin_fd, pipe_fds[2] = { -1, -1 }, hold[2] = { -1, -1 };
    char *cursor = strings, *end = strings + h->length;
    for (size_t i = 0; i < count; i++) {
        if (cursor >= end) { reply.stage = 6; reply.error = EINVAL; goto done; }
        fields[i] = cursor;
        cursor += strlen(cursor) + 1;
    }
    argv = calloc(h->argc + 1, sizeof(char *));
    envp = calloc(h->envc + 1, sizeof(char *));
    for (uint32_t i = 0; i < h->argc; i++) argv[i] = fields[7 + i];
    for (uint32_t i = 0; i < h->envc; i++) envp[i] = fields[7 + h->argc + i];
    mode_t job_umask = (mode_t)(strtol(fields[6], NULL, 10) & 0777);

    /* The usual reasons a launch fails are checked here, so that they are answered at once;
       the job itself is then started without waiting for its exec. */
    struct stat st;
    if (stat(fields[1], &st) != 0) { reply.stage = 1; reply.error = errno; goto done; }
    if (!S_ISDIR(st.st_mode)) { reply.stage = 1; reply.error = ENOTDIR; goto done; }
    if (access(fields[0], X_OK) != 0) { reply.stage = 2; reply.error = errno; goto done; }
    for (size_t i = 7; i < count; i++) {
        if (strlen(fields[i]) >= 131072) { reply.stage = 2; reply.error = E2BIG; goto done; }
    }
    out_fd = open(fields[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    err_fd = out_fd < 0 ? -1 : open(fields[3], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (in_fd < 0 && err_fd >= 0 && h->has_fd == 2) {
        if (pipe2(hold, O_CLOEXEC) == 0) in_fd = hold[0];
    } else if (in_fd < 0 && err_fd >= 0) {
        in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    if (out_fd < 0 || err_fd < 0 || in_fd < 0) { reply.stage = 3; reply.error = errno; goto done; }
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) { reply.stage = 5; reply.error = errno; goto done; }

    /* This process is small and single-threaded: fork is cheap here and lets this loop go on
       while the child execs. */
    pid_t pid = fork();
    if (pid == 0) {
        int failure[2] = { 0, 0 };
        setsid();
        cjob_reset_signals();
        umask(job_umask);
        if (chdir(fields[1]) != 0) {
            failure[0] = 1; failure[1] = errno;
        } else {
            int in_high = fcntl(in_fd, F_DUPFD_CLOEXEC, 3);
            int out_high = fcntl(out_fd, F_DUPFD_CLOEXEC, 3);
            int err_high = fcntl(err_fd, F_DUPFD_CLOEXEC, 3);
            if (in_high < 0 || out_high < 0 || err_high < 0 || dup2(in_high, 0) < 0 || dup2(out_high, 1) < 0
                || dup2(err_high, 2) < 0) {
                failure[0] = 3; failure[1] = errno;
            } else {
                syscall(436 /* close_range */, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);
                execve(fields[0], argv, envp);
                failure[0] = 2; failure[1] = errno;
            }
        }
        ssize_t ignored = write(pipe_fds[1], failure, sizeof failure);
        (void)ignored;
        _exit(127);
    }
    close(pipe_fds[1]);
    if (pid < 0) {
        reply.stage = 4; reply.error = errno;
        close(pipe_fds[0]);
        goto done;
    }
    fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK);
    reply.pid = pid;
    if (job_count == job_capacity) {
        job_capacity = job_capacity ? job_capacity * 2 : 64;
        jobs = realloc(jobs, job_capacity * sizeof(sup_job));
    }
    sup_job *job = &jobs[job_count++];
    job->pid = pid;
    job->id = h->id;
    job->key = strdup(fields[4]);
    job->log_path = strdup(fields[5]);
    job->exec_fd = pipe_fds[0];
    job->hold_fd = hold[1];
    hold[1] = -1;
    job->failed_stage = 0;
    job->failed_errno = 0;
done:
    if (hold[1] >= 0) close(hold[1]);
    if (out_fd >= 0) close(out_fd);
    if (err_fd >= 0) close(err_fd);
    if (in_fd >= 0) close(in_fd);
    free(argv);
    free(envp);
    free(fields);
    if (agent >= 0) write_full(agent, &reply, sizeof reply);
}

static void reap(int *events) {
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (size_t i = 0; i < job_count; i++) {
            if (jobs[i].pid != pid) continue;
            sup_job *job = &jobs[i];
            settle_exec(job);
            cjob_supervisor_event event;
            memset(&event, 0, sizeof event);
            event.id = job->id;
            if (job->failed_stage != 0) {
                log_end(job, "launch", job->failed_stage, job->failed_errno);
                event.kind = 2;
                event.value = job->failed_stage;
                event.error = job->failed_errno;
            } else if (WIFSIGNALED(status)) {
                log_end(job, "signal", WTERMSIG(status), 0);
                event.kind = 1;
                event.value = WTERMSIG(status);
            } else {
                log_end(job, "exit", WEXITSTATUS(status), 0);
                event.value = WEXITSTATUS(status);
            }
            if (*events >= 0 && write_full(*events, &event, sizeof event) != 0) {
                close(*events);
                *events = -1;
            }
            if (job->exec_fd >= 0) close(job->exec_fd);
            if (job->hold_fd >= 0) close(job->hold_fd);
            free(job->key);
            free(job->log_path);
            jobs[i] = jobs[--job_count];
            break;
        }
    }
}

static void serve(int listener) {
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    int requests = -1, events = -1;
    int ever_connected = 0;
    struct pollfd *fds = NULL;
    size_t fds_capacity = 0;
    for (;;) {
        size_t nfds = 3 + job_count;
        if (nfds > fds_capacity) {
            fds_capacity = nfds * 2;
            fds = realloc(fds, fds_capacity * sizeof *fds);
        }
        fds[0] = (struct pollfd){ listener, POLLIN, 0 };
        fds[1] = (struct pollfd){ sigfd, POLLIN, 0 };
        fds[2] = (struct pollfd){ requests, POLLIN, 0 };
        for (size_t i = 0; i < job_count; i++) fds[3 + i] = (struct pollfd){ jobs[i].exec_fd, POLLIN, 0 };
        int n = poll(fds, nfds, -1);
        if (n < 0) { if (errno == EINTR) continue; _exit(1); }
        /* Exec pipes first: job indexes change once jobs are reaped below. */
        for (size_t i = 0; i < job_count && 3 + i < nfds; i++) {
            if (fds[3 + i].revents && jobs[i].exec_fd == fds[3 + i].fd) settle_exec(&jobs[i]);
        }
        if (fds[1].revents) {
            struct signalfd_siginfo info;
            while (read(sigfd, &info, sizeof info) > 0) {}
            reap(&events);
        }
        if (fds[0].revents) {
            int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0) {
                struct ucred cred;
                socklen_t len = sizeof cred;
                char role = 0;
                if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != getuid()
                    || read_full(fd, &role, 1, NULL) != 0) {
                    close(fd);
                } else if (role == 'R') {
                    if (requests >= 0) close(requests);
                    requests = fd;
                    ever_connected = 1;
                } else if (role == 'E') {
                    if (events >= 0) close(events);
                    events = fd;
                } else {
                    close(fd);
                }
            }
        }
        /* Only the connection that was polled: a new agent may have replaced it just above. */
        if (requests >= 0 && requests == fds[2].fd && fds[2].revents) {
            launch_header h;
            int passed = -1;
            if (read_full(requests, &h, sizeof h, &passed) != 0 || h.length > (64u << 20)) {
                if (passed >= 0) close(passed);
                /* The agent went away. Its event channel is left alone: it may already be the
                   next agent's (a write to a dead one fails and closes it). */
                close(requests);
                requests = -1;
            } else if (h.has_fd == 3) {
                /* Release: closing a remote job's stdin ends its command on the other side. */
                cjob_supervisor_reply reply = { h.id, 0, 0, 0, 0 };
                for (size_t i = 0; i < job_count; i++) {
                    if (jobs[i].id == h.id && jobs[i].hold_fd >= 0) {
                        close(jobs[i].hold_fd);
                        jobs[i].hold_fd = -1;
                        reply.pid = jobs[i].pid;
                    }
                }
                if (passed >= 0) close(passed);
                write_full(requests, &reply, sizeof reply);
            } else {
                char *strings = malloc(h.length + 1);
                if (strings && read_full(requests, strings, h.length, &passed) == 0) {
                    strings[h.length] = 0;
                    launch(requests, &h, strings, h.has_fd == 1 ? passed : -1);
                } else {
                    if (passed >= 0) close(passed);
                    close(requests);
                    requests = -1;
                }
                free(strings);
            }
        }
        if (ever_connected && requests < 0 && job_count == 0) _exit(0);
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
    char *const argv[] = { "job", "agent", "supervise", NULL };
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

void cjob_supervisor_main(int listener) {
    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    fcntl(listener, F_SETFD, FD_CLOEXEC);
    serve(listener);
    _exit(0);
}

int cjob_supervisor_connect(const char *socket_path, char role) {
    int fd = cjob_unix_connect(socket_path);
    if (fd < 0) return -1;
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != getuid()
        || write_full(fd, &role, 1) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int cjob_supervisor_launch(int fd, uint64_t id, const char *strings, uint32_t length, uint32_t argc, uint32_t envc,
                           int stdin_fd, int hold_stdin, cjob_supervisor_reply *reply) {
    launch_header h = { length, stdin_fd >= 0 ? 1u : (hold_stdin ? 2u : 0u), id, argc, envc };
    int fds[1] = { stdin_fd };
    if (cjob_send_with_fds(fd, &h, sizeof h, fds, stdin_fd >= 0 ? 1 : 0) != (ssize_t)sizeof h) return -1;
    if (write_full(fd, strings, length) != 0) return -1;
    return read_full(fd, reply, sizeof *reply, NULL);
}

int cjob_supervisor_read_event(int fd, cjob_supervisor_event *event) {
    return read_full(fd, event, sizeof *event, NULL);
}

int cjob_supervisor_release(int fd, uint64_t id, cjob_supervisor_reply *reply) {
    launch_header h = { 0, 3u, id, 0, 0 };
    if (write_full(fd, &h, sizeof h) != 0) return -1;
    return read_full(fd, reply, sizeof *reply, NULL);
}
