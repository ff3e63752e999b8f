#ifndef CJOBSUPPORT_H
#define CJOBSUPPORT_H

#include <stdint.h>
#include <sys/types.h>

/// What the launcher needs to start one job under its own waiter process.
typedef struct {
    const char *shell;          /* absolute path of the program to exec */
    char *const *argv;          /* NULL-terminated */
    char *const *envp;          /* NULL-terminated */
    const char *cwd;            /* working directory of the job */
    int stdin_fd;               /* descriptor to give the job as stdin, or -1 for /dev/null */
    const char *stdout_path;    /* opened O_APPEND and given as fd 1 */
    const char *stderr_path;    /* opened O_APPEND and given as fd 2 */
    const char *status_path;    /* written by the waiter, atomically, when the job ends */
    const char *status_tmp_path;
} cjob_launch_spec;

/// The result of a launch. `stage` is 0 when the job runs; otherwise it names the step
/// that failed (1 chdir, 2 exec, 3 open output, 4 fork, 5 pipe) and `error` holds errno.
typedef struct {
    pid_t waiter_pid;
    pid_t job_pid;
    int stage;
    int error;
} cjob_launch_result;

/// Forks a waiter that forks the job (own session and process group, default signal
/// handling, empty mask, only fds 0-2), reports the launch, waits for the job and writes
/// its status file (`exit N` or `signal N`, then the end time) with an atomic rename.
/// Only async-signal-safe calls happen after fork, so this is safe in a threaded process.
void cjob_launch(const cjob_launch_spec *spec, cjob_launch_result *result);

/// Starts `path argv` as a detached daemon: new session, stdio on /dev/null, cwd "/",
/// `ready_fd` handed over as descriptor 3. Returns the pid or -1.
pid_t cjob_spawn_daemon(const char *path, char *const *argv, int ready_fd);

int cjob_pidfd_open(pid_t pid);
/// Reaps `pid` if it is our child; returns 1 when reaped, 0 when still running, -1 otherwise.
int cjob_reap(pid_t pid, int *status);
int cjob_wait_status_exited(int status);
int cjob_wait_status_code(int status);
int cjob_wait_status_signal(int status);

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

int cjob_set_subreaper(void);
/// A signalfd for SIGCHLD (which `cjob_block_signals` blocks in every thread).
int cjob_signalfd_child(void);
/// Drains the signalfd and reaps every ended child; returns how many.
int cjob_reap_all(int fd);
/// Blocks the signals the agent handles on a thread of its own.
void cjob_block_signals(void);
int cjob_wait_signal(void);
void cjob_ignore_sigpipe(void);
int cjob_is_socket_owned_by(const char *path, uid_t uid, uid_t *owner);
/// Copies up to `count` bytes from `in_fd` at `*offset` to `out_fd`; returns bytes written.
ssize_t cjob_sendfile(int out_fd, int in_fd, off_t *offset, size_t count);
int cjob_terminal_columns(int fd);

#endif
