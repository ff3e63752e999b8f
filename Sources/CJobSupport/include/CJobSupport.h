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


int cjob_epoll_create(void);
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
/// Drains the signalfd and reaps every ended child; returns how many.
int cjob_reap_all(int fd);
/// Blocks the signals the agent handles on a thread of its own.
void cjob_block_signals(void);
int cjob_wait_signal(void);
void cjob_ignore_sigpipe(void);
/// Unblocks SIGINT, SIGTERM and SIGHUP in the calling thread.
void cjob_unblock_signals(void);
int cjob_is_socket_owned_by(const char *path, uid_t uid, uid_t *owner);
/// Copies up to `count` bytes from `in_fd` at `*offset` to `out_fd`; returns bytes written.
ssize_t cjob_sendfile(int out_fd, int in_fd, off_t *offset, size_t count);
int cjob_terminal_columns(int fd);

/// The supervisor's answer to a launch: the job's pid, or the failed step and errno.
typedef struct {
    uint64_t id;
    int32_t pid;
    int32_t stage;
    int32_t error;
    int32_t reserved;
} cjob_supervisor_reply;

/// A job's end as the supervisor reports it. `kind` 0: exited with status `value`; 1: killed
/// by signal `value`; 2: could not be started (`value` the step as in a reply, `error` errno).
typedef struct {
    uint64_t id;
    int32_t kind;
    int32_t value;
    int32_t error;
    int32_t reserved;
} cjob_supervisor_event;

/// Binds `socket_path` and starts `executable agent supervise` on it (vfork + exec, so it
/// is safe in a threaded process). Returns the supervisor's pid or -1.
pid_t cjob_supervisor_spawn(const char *socket_path, const char *executable);
/// The supervisor's loop on its listening socket (descriptor 3 of `job agent supervise`).
void cjob_supervisor_main(int listener);
/// Connects to the supervisor as its request ('R') or event ('E') channel.
int cjob_supervisor_connect(const char *socket_path, char role);
/// Sends a launch (strings: shell, cwd, stdout, stderr, key, exit log, argv..., env...)
/// and reads the reply. Returns 0, or -1 when the supervisor is gone.
/// With `hold_stdin` (and no `stdin_fd`), the job's stdin is a pipe whose write end the
/// supervisor holds until `cjob_supervisor_release` or the job's end.
int cjob_supervisor_launch(int fd, uint64_t id, const char *strings, uint32_t length, uint32_t argc, uint32_t envc,
                           int stdin_fd, int hold_stdin, cjob_supervisor_reply *reply);
/// Closes the held stdin of job `id` (the remote command then ends). `reply->pid` is the job's
/// pid when it had one held, else 0.
int cjob_supervisor_release(int fd, uint64_t id, cjob_supervisor_reply *reply);
/// Reads one end event; -1 when the supervisor is gone.
int cjob_supervisor_read_event(int fd, cjob_supervisor_event *event);

#endif
