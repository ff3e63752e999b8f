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

#ifndef CJOBSUPPORT_H
#define CJOBSUPPORT_H

#include <stdint.h>
#include <sys/types.h>

/// Starts `path argv` as a detached daemon: new session, stdio on /dev/null, cwd "/",
/// `ready_fd` handed over as descriptor 3. Returns the pid or -1.
pid_t cjob_spawn_daemon(const char *path, char *const *argv, int ready_fd);

/// Every signal to its default action (glibc's reserved ones too) and an empty mask, as a
/// job must start. Async-signal-safe: for use between fork and exec.
void cjob_reset_signals(void);
/* Resets to the default the signals of the set (bit N-1 for signal N), and unblocks all. */
void cjob_reset_signals_in(uint64_t signals);
/* The signals this process ignores (bit N-1 for signal N): those an exec keeps ignored. */
uint64_t cjob_ignored_signals(void);


int cjob_epoll_create(void);

/* glibc's malloc for a long-lived process that now and then builds a large reply: buffers of a
   megabyte and more are mapped (and given back when freed), at most 4 arenas. */
void cjob_tune_malloc(void);
/* An eventfd (close-on-exec, non-blocking) that wakes an epoll loop: signal adds one, drain
   reads it empty. */
int cjob_eventfd_create(void);
void cjob_eventfd_signal(int fd);
void cjob_eventfd_drain(int fd);
/* A one-shot timer (a timerfd on the monotonic clock, close-on-exec, non-blocking) that wakes
   an epoll loop when it expires: set arms it `ms` milliseconds from now (0 disarms it);
   cjob_eventfd_drain reads its expiry. */
int cjob_timer_create(void);
void cjob_timer_set(int fd, int ms);
/* Gives the pages of freed memory back to the system (malloc_trim). */
void cjob_release_free_memory(void);
/* Bytes of the heap in use (mallinfo2), for the tests of the agent's memory. */
size_t cjob_heap_in_use(void);
int cjob_epoll_add(int epfd, int fd, uint64_t data);
int cjob_epoll_del(int epfd, int fd);
/// Waits for events; fills `out` with the data of up to `max` ready descriptors.
int cjob_epoll_wait(int epfd, uint64_t *out, int max, int timeout_ms);

/// Peer credentials of a connected Unix socket.
int cjob_peer_uid(int fd, uid_t *uid, pid_t *pid);

/// Sends `len` bytes with up to `nfds` descriptors attached (SCM_RIGHTS).
ssize_t cjob_send_with_fds(int sock, const void *buf, size_t len, const int *fds, int nfds);
/// Receives up to `len` bytes and up to `maxfds` descriptors (close-on-exec).
ssize_t cjob_recv_with_fds(int sock, void *buf, size_t len, int *fds, int maxfds, int *nfds);

int cjob_unix_listen(const char *path, int backlog);
int cjob_unix_connect(const char *path);
int cjob_accept(int listener);

/// Names the process (as ps and top show it).
void cjob_set_process_name(const char *name);
/// Runs a program with stdio on /dev/null and waits for it (posix_spawn: safe with threads).
int cjob_run_quiet(const char *path, char *const *argv);
/// A pipe whose both ends close on exec (pipe2 with O_CLOEXEC); 0, or -1 with errno set.
int cjob_pipe_cloexec(int fds[2]);
/// Starts a program with the given stdin, stdout and stderr (posix_spawn), default signal
/// handling and an empty mask; returns its pid, or -1 with errno set. `envp` NULL keeps ours;
/// `new_session` starts it in a session and process group of its own.
pid_t cjob_spawn_with_stdio(const char *path, char *const *argv, char *const *envp, int in_fd, int out_fd,
                            int err_fd, int new_session);
/// A signalfd for SIGCHLD (which `cjob_block_signals` blocks in every thread).
int cjob_signalfd_child(void);
/// Reads every pending signal off a signalfd.
void cjob_drain_signalfd(int fd);
/// Blocks the signals the agent handles on a thread of its own.
void cjob_block_signals(void);
/// Waits until SIGTERM, SIGINT or SIGHUP comes (blocked by `cjob_block_signals`), or `stop_fd`
/// (an eventfd) is written: the signal's number, or 0 for the descriptor.
int cjob_wait_stop(int stop_fd);
void cjob_ignore_sigpipe(void);
/// Unblocks SIGINT, SIGTERM and SIGHUP in the calling thread.
void cjob_unblock_signals(void);
/// From now on SIGINT, SIGTERM and SIGHUP only note the signal (and interrupt a blocked call),
/// so that a reader can hand back what it did not write before it exits.
void cjob_catch_interrupts(void);
/// The signal that `cjob_catch_interrupts` noted, or 0.
int cjob_interrupt_signal(void);
/// Gives SIGINT, SIGTERM and SIGHUP back their actions of before `cjob_catch_interrupts`, then
/// ends the process by the one noted meanwhile, if any.
void cjob_release_interrupts(void);
int cjob_is_socket_owned_by(const char *path, uid_t uid, uid_t *owner);
/// Writes all `len` bytes of `buf` to `fd` (where SIGPIPE is ignored, a closed reader is an
/// error); returns how many were
/// written before an error, a write that took nothing, or an interrupt that
/// `cjob_catch_interrupts` noted stopped it. The one write-all of the package.
size_t cjob_write_all(int fd, const void *buf, size_t len);
/// Copies up to `count` bytes from `in_fd` at `*offset` to `out_fd`; returns bytes written.
ssize_t cjob_sendfile(int out_fd, int in_fd, off_t *offset, size_t count);
int cjob_terminal_columns(int fd);

/// The step of a launch that failed (0: none), as the supervisor answers it and a monitor
/// reports it; the agent's `launchReason` words each.
typedef enum {
    CJOB_STAGE_NONE = 0,
    CJOB_STAGE_DIRECTORY = 1, /* entering the working directory */
    CJOB_STAGE_EXEC = 2,      /* running the shell (the command too long included) */
    CJOB_STAGE_OUTPUT = 3,    /* opening or handing over the output files and stdin */
    CJOB_STAGE_RESOURCES = 4, /* memory, or the monitor's fork */
    CJOB_STAGE_PIPE = 5,      /* a pipe between supervisor, monitor and job */
    CJOB_STAGE_RECORD = 6,    /* the launch record was cut short */
    CJOB_STAGE_MONITOR = 7,   /* the monitor's socket */
} cjob_launch_stage;

/// The named strings at the head of a launch record, in this order (each ends in a NUL); argv
/// and then the environment follow them. Both sides index the record by these names.
typedef enum {
    CJOB_LAUNCH_PROGRAM = 0,   /* the program to exec: the shell, or ssh */
    CJOB_LAUNCH_DIRECTORY = 1, /* its working directory */
    CJOB_LAUNCH_STDOUT = 2,    /* the output files' paths */
    CJOB_LAUNCH_STDERR = 3,
    CJOB_LAUNCH_KEY = 4,       /* the job's InstanceId */
    CJOB_LAUNCH_MONITOR = 5,   /* its monitor's socket name */
    CJOB_LAUNCH_UMASK = 6,     /* in decimal */
    CJOB_LAUNCH_NAMED = 7,     /* how many there are */
} cjob_launch_field;

/// The supervisor's answer to a launch: the job's pid, its start time and its monitor's pid,
/// or the failed step (a `cjob_launch_stage`) and errno.
typedef struct {
    uint64_t id;
    int32_t pid;
    int32_t stage;
    int32_t error;
    int32_t monitor_pid;
    int64_t start_time;
} cjob_supervisor_reply;

/// Binds `socket_path` and starts `executable supervise` on it (vfork + exec, so it
/// is safe in a threaded process). Returns the supervisor's pid or -1.
pid_t cjob_supervisor_spawn(const char *socket_path, const char *executable);
/// The supervisor's loop on its listening socket (descriptor 3 of `job-agent supervise`).
void cjob_supervisor_main(int listener);
/// The program's arguments, which each monitor overwrites with its own name (a constructor
/// sets them; one that runs before it, as the supervisor's entry does, calls this first).
void cjob_remember_arguments(int argc, char **argv);
/// Connects to the supervisor as a request channel. -1 when none answers.
int cjob_supervisor_connect(const char *socket_path);
/// Sends a launch (strings: program, cwd, stdout, stderr, key, monitor name, umask, argv...,
/// env...) and reads the reply: the job's own, with its pid, or the step that failed, from
/// the supervisor or the job's monitor. Returns 0, or -1 when no reply came (the supervisor
/// is gone, or none came within 10 s).
/// With `hold_stdin` (and no `stdin_fd`), the job's stdin is a pipe whose write end the
/// job's monitor holds until it is released or the job ends. `link_fd` gets a connection to
/// the job's monitor when the launch started (-1 otherwise): one the monitor does not greet,
/// since the reply has the pid and start time; the caller owns it.
int cjob_supervisor_launch(int fd, uint64_t id, const char *strings, uint32_t length, uint32_t argc, uint32_t envc,
                           int stdin_fd, int hold_stdin, cjob_supervisor_reply *reply, int *link_fd);

/// Messages between an agent and a job's monitor (see JobMonitor.c).
enum {
    CJOB_MONITOR_HELLO = 1,    /// monitor: `pid` is the job's, `time_sec` its start time in ticks
    CJOB_MONITOR_END = 2,      /// monitor: the job ended (`how`, `value`, `error`, the time)
    CJOB_MONITOR_ACK = 10,     /// agent: the end is stored; the monitor exits
    CJOB_MONITOR_SIGNAL = 11,  /// agent: send signal `value` to the job's process group
    CJOB_MONITOR_RELEASE = 12, /// agent: close the job's held stdin
    CJOB_MONITOR_FORWARD = 13, /// agent: write signal `value`'s name as a line to the held stdin
};
/// How a job ended: exited with status `value`, killed by signal `value`, or never became the
/// command (`value` the failed step, `error` its errno).
enum { CJOB_END_EXIT = 0, CJOB_END_SIGNAL = 1, CJOB_END_LAUNCH = 2 };

typedef struct {
    uint32_t kind;
    int32_t value;
    int32_t how;
    int32_t error;
    int32_t pid;
    int32_t reserved;
    int64_t time_sec;
    int64_t time_nsec;
} cjob_monitor_message;

/// Connects to the monitor named `name` (abstract socket). Refuses a peer of another uid.
/// `peer` receives its pid. Returns the descriptor (close-on-exec), or -1 with errno set.
int cjob_monitor_connect(const char *name, pid_t *peer);
/// Sends one message without blocking: 0, or -1.
int cjob_monitor_send(int fd, uint32_t kind, int32_t value);
/// Receives one message without blocking: 0, 1 when none is waiting, -1 when the monitor is
/// gone or sent something that is not a message.
int cjob_monitor_receive(int fd, cjob_monitor_message *message);
/// A process's start time in clock ticks since boot, or -1.
int64_t cjob_process_start_time(pid_t pid);
/// A pidfd for `pid` (pidfd_open), or -1.
int cjob_pidfd_open(pid_t pid);

/// splice(2) from a pipe into a file at `*offset` (advanced by what moved); -1 and errno on error.
long cjob_splice_to_file(int pipe_fd, int file_fd, long long *offset, unsigned long length);

#endif
