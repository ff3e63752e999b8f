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

/* The forms of `job` that scripts run in loops, answered before the C library and the Swift
   runtime start: a plain `job start --quiet COMMAND...`, and `job wait` / `job get` of
   selectors into a pipe or a file. The program's entry point (`cjob_entry`, named to the linker
   in Package.swift) calls it with the arguments and the environment the kernel gave; it
   returns, and the entry goes on to the C library's `_start` and the Swift client, unless the
   command is one of those forms and needs nothing the Swift client decides (a config file, the
   variables it reads, an agent to start, text that is not UTF-8, a terminal); once the request
   was taken it answers as the Swift client would and ends the process. Nothing here may call
   the C library, which is not set up yet (CJobSys.h). docs/decisions.md, "The start and wait
   path (issue 25)", says why and what. */

#define _GNU_SOURCE
#include "CJobFront.h"
#include "CJobSys.h"
#include "CJobWire.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/limits.h>
#include <sys/file.h>
#include <sys/stat.h>

/* The room for a path here (the home, a folder, the shell): a longer one goes to the Swift
   client. Small, so that the stack a run touches stays within two pages (each page touched is
   a fault, about 3 us on this project's machine). */
enum { path_room = 1024 };

/* What the fast path writes of its own, in the page where its arena starts: each page a run
   touches is a fault, and the arena's first page is touched by every run. */
static struct {
    /* The environment the kernel gave the program. */
    char *const *environment;
    /* JOB_FAST_PATH=0 leaves every command to the Swift client; JOB_FAST_PATH=only makes a
       form of start, wait or get that this side hands over fail instead, saying why (for
       tests, and for a benchmark that must measure this path). */
    int only;
    /* Set once the fast path was tried, at the entry or in the constructor. */
    int tried;
    /* The memory the fast path allocates from (cjs_use_arena): a page or two of it is touched. */
    char arena[(1 << 16) - 64] __attribute__((aligned(64)));
} front __attribute__((aligned(4096)));

static const char *getenv_(const char *name) { return cjs_getenv(front.environment, name); }

enum verb { verb_start = 1, verb_wait, verb_get };

/* How long a client waits past what a request may take (JobClient.patience; a set
   JOB_AGENT_TIMEOUT is left to the Swift client), and a wait's slice (JobClient.waitSlice). */
static const double patience = 30;
static const double wait_slice = 10;
/* The largest request the agent takes (FrameChannel.maximumRequest). */
static const size_t maximum_request = 4 << 20;

static int is_set(const char *name) {
    const char *value = getenv_(name);
    return value && *value;
}

static int is_plain_string(const char *text) {
    return cjw_is_plain_text((const unsigned char *)text, cjs_strlen(text));
}

/* Ends the process as the Swift client ends it: `job: MESSAGE` (and `detail`) on stderr, status 1. */
__attribute__((noreturn)) static void fail(const char *message, const unsigned char *detail, size_t detail_length) {
    cjs_ignore_sigpipe();
    cjs_write_all(2, "job: ", 5);
    cjs_write_all(2, message, cjs_strlen(message));
    if (detail_length) cjs_write_all(2, detail, detail_length);
    cjs_write_all(2, "\n", 1);
    cjs_exit(1);
}

/* `first` then `second` into `out`: the length, or -1 when it does not fit. (Not snprintf: its
   code spans pages that a run of the fast path would otherwise not touch.) */
static int join(char *out, size_t size, const char *first, const char *second) {
    size_t one = cjs_strlen(first), two = cjs_strlen(second);
    if (one + two >= size) return -1;
    cjs_memcpy(out, first, one);
    cjs_memcpy(out + one, second, two + 1);
    return (int)(one + two);
}

/* The home's path (JobHome.resolve) into `path`; 0, or -1 when the Swift client is to decide. */
static int home_path(char *path, size_t size) {
    const char *home = getenv_("JOB_HOME");
    const char *base;
    int length;
    if (home && *home) {
        if (home[0] != '/') return -1;
        length = join(path, size, home, "");
    } else if ((base = getenv_("XDG_STATE_HOME")) && base[0] == '/') {
        length = join(path, size, base, "/job");
    } else if ((base = getenv_("HOME")) && base[0] == '/') {
        length = join(path, size, base, "/.local/state/job");
    } else {
        return -1;
    }
    if (length < 0) return -1;
    while (length > 1 && path[length - 1] == '/') path[--length] = 0;
    return is_plain_string(path) ? 0 : -1;
}

/* Appends `text` at `*at` in `out` (of `size`); -1 once it does not fit. */
static int append(char *out, size_t size, size_t *at, const char *text, size_t length) {
    if (*at + length >= size) return -1;
    cjs_memcpy(out + *at, text, length);
    *at += length;
    out[*at] = 0;
    return 0;
}

static int append_number(char *out, size_t size, size_t *at, long long number) {
    char digits[24];
    return append(out, size, at, digits, cjw_decimal(number, digits));
}

/* The settings of the user's config file (JobSettings.path) that the fast forms need, read
   from the cache the Swift client keeps of it (`config.cache` in the home, see
   JobSettings.cacheText): 0, with `shell` the file's shell or /bin/sh; -1 when the Swift client
   is to decide: a cache for another version of the file (the Swift client writes it anew), an
   error in the file, a `max-output` (a start with it is queued), a `color` other than auto or
   never (`always` colours a pipe too), a shell that is not an absolute path, or a key this
   side does not know. Without a file: 0 and /bin/sh. */
static int config_settings(const char *home, char *shell, size_t shell_size) {
    char path[path_room];
    const char *base;
    int length;
    join(shell, shell_size, "/bin/sh", "");
    if ((base = getenv_("XDG_CONFIG_HOME")) && base[0] == '/') {
        length = join(path, sizeof path, base, "/job/config.toml");
    } else if ((base = getenv_("HOME")) && base[0] == '/') {
        length = join(path, sizeof path, base, "/.config/job/config.toml");
    } else {
        return 0;
    }
    if (length < 0) return -1;
    cjs_file info;
    if (cjs_stat(path, 1, &info) != 0) return 0;
    /* The stamp the cache begins with: path, inode, size and change time (JobSettings.stamp). */
    char stamp[path_room + 96];
    size_t at = 0;
    if (append(stamp, sizeof stamp, &at, path, (size_t)length) || append(stamp, sizeof stamp, &at, "\t", 1) ||
        append_number(stamp, sizeof stamp, &at, (long long)info.inode) || append(stamp, sizeof stamp, &at, "\t", 1) ||
        append_number(stamp, sizeof stamp, &at, (long long)info.size) ||
        append(stamp, sizeof stamp, &at, "\t", 1) ||
        append_number(stamp, sizeof stamp, &at, (long long)info.modified_seconds) ||
        append(stamp, sizeof stamp, &at, ".", 1) ||
        append_number(stamp, sizeof stamp, &at, (long long)info.modified_nanoseconds) ||
        append(stamp, sizeof stamp, &at, "\n", 1))
        return -1;
    char cache_path[path_room];
    if (join(cache_path, sizeof cache_path, home, "/config.cache") < 0) return -1;
    int fd = cjs_open(cache_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    static char text[65536];
    size_t count = 0;
    for (long got; count < sizeof text - 1 && (got = cjs_read(fd, text + count, sizeof text - 1 - count)) != 0;) {
        if (got == -EINTR) continue;
        if (got < 0) break;
        count += (size_t)got;
    }
    cjs_close(fd);
    text[count] = 0;
    if (count >= sizeof text - 1 || count < at || cjs_memcmp(text, stamp, at) != 0) return -1;
    int ended = 0;
    for (char *line = text + at, *next; *line; line = next) {
        next = (char *)cjs_strchr(line, '\n');
        if (!next) return -1; /* a cache cut short */
        *next++ = 0;
        if (ended) {
            if (*line) return -1;
            continue;
        }
        if (cjs_strcmp(line, "end") == 0) {
            ended = 1;
            continue;
        }
        char *key_end = (char *)cjs_strchr(line, '\t');
        char *value = key_end ? (char *)cjs_strchr(key_end + 1, '\t') : NULL;
        if (!value) return -1; /* `error`, or a line of another form */
        *key_end = 0;
        value++;
        if (cjs_strcmp(line, "shell") == 0) {
            if (value[0] != '/' || !is_plain_string(value) || join(shell, shell_size, value, "") < 0) return -1;
        } else if (cjs_strcmp(line, "color") == 0) {
            if (cjs_strcmp(value, "auto") != 0 && cjs_strcmp(value, "never") != 0) return -1;
        } else if (cjs_strcmp(line, "grace") != 0 && cjs_strcmp(line, "throttle-limit") != 0 &&
                   cjs_strcmp(line, "ssh-options") != 0 && cjs_strcmp(line, "remove-after") != 0 &&
                   cjs_strcmp(line, "reconnect-for") != 0 && cjs_strcmp(line, "sbatch-options") != 0) {
            return -1; /* max-output, or a key of a later version */
        }
    }
    return ended ? 0 : -1;
}

/* A connection to the home's agent, checked as JobClient.connect checks it; -1 for the Swift
   client to make (or to start an agent, or to say what is wrong). */
static int connect_agent(const char *home, char *socket_path, size_t size) {
    cjs_file info;
    uint32_t uid = cjs_getuid(), peer = 0;
    int32_t pid = 0;
    if (cjs_stat(home, 1, &info) != 0 || info.uid != uid) return -1;
    int length = join(socket_path, size, home, "/agent.sock");
    if (length < 0 || length > 107) return -1;
    if (cjs_stat(socket_path, 0, &info) != 0 || info.uid != uid) return -1;
    int fd = cjs_unix_connect(socket_path);
    if (fd < 0) return -1;
    if (cjs_peer(fd, &peer, &pid) != 0 || peer != uid) {
        cjs_close(fd);
        return -1;
    }
    return fd;
}

/* The pid in the agent's lock file while an agent holds it (JobClient.agentPid), else 0. */
static long agent_pid(const char *home) {
    char path[path_room + 16];
    if (join(path, sizeof path, home, "/agent.lock") < 0) return 0;
    int fd = cjs_open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return 0;
    long pid = 0;
    if (cjs_flock(fd, LOCK_SH | LOCK_NB) == 0) {
        cjs_flock(fd, LOCK_UN);
    } else {
        char text[32];
        long count = cjs_read(fd, text, sizeof text);
        for (long index = 0; index < count; index++)
            if (text[index] >= '0' && text[index] <= '9') pid = pid * 10 + (text[index] - '0');
        if (pid <= 1) pid = 0;
    }
    cjs_close(fd);
    return pid;
}

__attribute__((noreturn)) static void unresponsive(const char *home) {
    char message[path_room + 512];
    size_t at = 0;
    long pid = agent_pid(home);
    static const char middle[] = " did not answer within ";
    static const char advice[] = " s: it may be stopped (SIGSTOP) or stuck; check it with `job agent status`, or "
                                 "restart it with `job agent stop` (running jobs keep running)";
    append(message, sizeof message, &at, "the agent (", 11);
    if (pid) {
        append(message, sizeof message, &at, "pid ", 4);
        append_number(message, sizeof message, &at, pid);
        append(message, sizeof message, &at, ", ", 2);
    }
    append(message, sizeof message, &at, "JOB_HOME ", 9);
    append(message, sizeof message, &at, home, cjs_strlen(home));
    append(message, sizeof message, &at, ")", 1);
    append(message, sizeof message, &at, middle, sizeof middle - 1);
    append_number(message, sizeof message, &at, (long long)patience);
    append(message, sizeof message, &at, advice, sizeof advice - 1);
    fail(message, NULL, 0);
}

/* What reading a reply came to. */
enum received { received_frame, received_nothing, received_reset, received_cut, received_timeout };

static enum received receive_bytes(int fd, unsigned char *into, size_t count, int first, int *error) {
    size_t got = 0;
    while (got < count) {
        long n = cjs_recv(fd, into + got, count - got);
        if (n == -EINTR) continue;
        if (n == -EAGAIN || n == -EWOULDBLOCK) return received_timeout;
        if (n < 0) {
            *error = (int)-n;
            /* A reset before any byte of the reply: the agent closed with the request unread. */
            return first && got == 0 && n == -ECONNRESET ? received_reset : received_cut;
        }
        if (n == 0) return first && got == 0 ? received_nothing : received_cut;
        got += (size_t)n;
    }
    return received_frame;
}

/* Reads one frame: its body in `*body` (cjs_allocate'd), its length in `*length`; `error` is the errno
   of a failed read. */
static enum received receive_frame(int fd, unsigned char **body, size_t *length, int *error) {
    unsigned char header[4];
    *error = 0;
    enum received status = receive_bytes(fd, header, 4, 1, error);
    if (status != received_frame) return status;
    *length = (size_t)header[0] << 24 | (size_t)header[1] << 16 | (size_t)header[2] << 8 | header[3];
    if (*length > (64u << 20) || !(*body = cjs_allocate(*length ? *length : 1))) return received_cut;
    return receive_bytes(fd, *body, *length, 0, error);
}

/* What a start the fast path answers asks for: `start [-q|--quiet] [--name NAME] [--] WORD...`. */
typedef struct {
    int first;        /* the index of the command's first word */
    int quiet;        /* print only the Id */
    const char *name; /* NULL: the agent names it JobN */
} start_form;

/* Whether a name is one the fast path sends as it is: 1 to 256 bytes of printable ASCII (the
   Swift client checks the rest, InputCheck.jobName). */
static int plain_name(const char *name) {
    size_t length = cjs_strlen(name);
    return length > 0 && length <= 256 && cjw_is_printable_ascii((const unsigned char *)name, length);
}

/* The start's form, or first = 0 when the Swift client is to parse it. */
static start_form start_words(int argc, char **argv) {
    start_form form;
    form.first = form.quiet = 0;
    form.name = NULL;
    int index = 2, separated = 0;
    for (; index < argc; index++) {
        const char *argument = argv[index];
        if (cjs_strcmp(argument, "--") == 0) {
            separated = 1;
            index++;
            break;
        }
        if (cjs_strcmp(argument, "-q") == 0 || cjs_strcmp(argument, "--quiet") == 0) {
            form.quiet = 1;
            continue;
        }
        if (cjs_strcmp(argument, "--name") == 0 && index + 1 < argc) {
            form.name = argv[++index];
            continue;
        }
        if (cjs_starts_with(argument, "--name=")) {
            form.name = argument + 7;
            continue;
        }
        if (argument[0] == '-' && argument[1] != 0) return form; /* another option */
        break;
    }
    if (index >= argc || (form.name && !plain_name(form.name))) return form;
    /* A script (a first word with a space) followed by what may be an option of start: the
       Swift client says whether it was meant for start. */
    if (!separated && cjs_strchr(argv[index], ' '))
        for (int later = index + 1; later < argc; later++)
            if (argv[later][0] == '-') return form;
    for (int word = index; word < argc; word++)
        if (!is_plain_string(argv[word])) return form;
    form.first = index;
    return form;
}

/* Selectors as typed (Ids, InstanceIds, names), no option, no `%` (which the Swift client
   resolves first). */
static int plain_selectors(int argc, char **argv) {
    for (int index = 2; index < argc; index++) {
        const unsigned char *at = (const unsigned char *)argv[index];
        if (*at == 0 || *at == '-') return 0;
        for (; *at; at++)
            if (*at <= 0x20 || *at >= 0x7F || *at == '%') return 0;
    }
    return 1;
}

/* Sends the whole frame; -1 when the agent did not take it (nothing is done then). */
static int send_frame(int fd, const cjw_buffer *frame) {
    size_t sent = 0;
    while (sent < frame->count) {
        long count = cjs_send(fd, frame->bytes + sent, frame->count - sent);
        if (count == -EINTR) continue;
        if (count <= 0) return -1;
        sent += (size_t)count;
    }
    return 0;
}

static int has_visible_byte(const cjw_buffer *text) {
    for (size_t index = 0; index < text->count; index++)
        if (text->bytes[index] > 0x20 && text->bytes[index] < 0x7F) return 1;
    return 0;
}

static const char *const unreadable =
    "the agent answered in a form this client does not read: it is probably of another version; stop it with "
    "`job agent stop` (running jobs keep running) and try again";

/* Answers the start once the agent took it; returns only when it was not taken. */
static void finish_start(int fd, const char *home, int quiet) {
    unsigned char *body = NULL;
    size_t length = 0;
    int error = 0;
    switch (receive_frame(fd, &body, &length, &error)) {
    case received_frame: break;
    case received_reset: return; /* not taken: the Swift client sends it again */
    case received_nothing: fail("the agent closed the connection", NULL, 0);
    case received_timeout: unresponsive(home);
    case received_cut: {
        char room[32];
        const char *text = error ? cjs_error_text(error, room, sizeof room) : "";
        fail(error ? "lost the agent: could not read: " : "lost the agent: the connection ended inside a reply",
             (const unsigned char *)text, cjs_strlen(text));
    }
    }
    long long id = 0;
    const unsigned char *message = NULL;
    size_t message_length = 0;
    cjw_buffer table;
    cjw_empty(&table);
    switch (cjw_read_start_reply(body, length, &id, quiet ? NULL : &table, &message, &message_length)) {
    case CJW_OK: {
        cjs_ignore_sigpipe();
        if (!quiet) {
            cjs_write_all(1, table.bytes, table.count);
            cjs_exit(0);
        }
        char line[32];
        size_t count = cjw_decimal(id, line);
        line[count++] = '\n';
        cjs_write_all(1, line, count);
        cjs_exit(0);
    }
    case CJW_REFUSED: fail("", message, message_length);
    default: fail(unreadable, NULL, 0);
    }
}

/* Prints a wait's or a get's jobs once the agent answered; a wait that timed out (a slice of
   JobClient.waitSlice) is asked again for the jobs it waited for, as JobClient.waitInSlices
   does. Returns when the Swift client is to ask again (these requests change nothing) and show
   what this side does not. */
static void finish_listing(int fd, const char *home, const char *verb, const cjw_buffer *first) {
    cjw_buffer table, frame;
    cjw_empty(&table);
    cjw_empty(&frame);
    for (;;) {
        unsigned char *body = NULL;
        size_t length = 0;
        int error = 0;
        enum received status = receive_frame(fd, &body, &length, &error);
        if (status == received_timeout) unresponsive(home);
        if (status != received_frame) return;
        const unsigned char *message = NULL;
        size_t message_length = 0;
        switch (cjw_read_jobs_reply(body, length, verb, &table, &message, &message_length)) {
        case CJW_OK:
            cjs_ignore_sigpipe();
            if (table.count) cjs_write_all(1, table.bytes, table.count);
            cjs_exit(0);
        case CJW_REFUSED: fail("", message, message_length);
        case CJW_TIMED_OUT: break;
        default: return;
        }
        cjs_release(body);
        /* The next slice waits for the jobs this one listed (none: the same selection). */
        if (table.count) {
            int count = 0;
            for (size_t index = 0; index < table.count; index++) count += table.bytes[index] == 0;
            const char **ids = cjs_allocate(sizeof(char *) * (size_t)count);
            if (!ids) return;
            const char *at = (const char *)table.bytes;
            for (int index = 0; index < count; index++, at += cjs_strlen(at) + 1) ids[index] = at;
            cjw_wait_frame(&frame, ids, count, wait_slice);
            cjs_release(ids);
            if (frame.failed || send_frame(fd, &frame) != 0) return;
        } else if (send_frame(fd, first) != 0) {
            return;
        }
    }
}

/* Leaves the command to the Swift client (the fast path returns), unless JOB_FAST_PATH=only. */
static void hand_over(const char *why) {
    if (front.only) fail("JOB_FAST_PATH=only, and this command is left to the Swift client: ", (const unsigned char *)why,
                   cjs_strlen(why));
}

static void cjob_front_run(int argc, char **argv, char *const *environment) {
    enum verb verb = cjs_strcmp(argv[1], "start") == 0 ? verb_start
                     : cjs_strcmp(argv[1], "wait") == 0 ? verb_wait
                     : cjs_strcmp(argv[1], "get") == 0  ? verb_get
                                                    : 0;
    if (!verb) return;
    const char *mode = getenv_("JOB_FAST_PATH");
    if (mode && cjs_strcmp(mode, "0") == 0) return;
    front.only = mode && cjs_strcmp(mode, "only") == 0;
    start_form start;
    start.first = start.quiet = 0;
    start.name = NULL;
    if (verb == verb_start) {
        start = start_words(argc, argv);
        if (!start.first)
            return hand_over("a start with options other than --quiet and --name, a name that is not printable "
                             "ASCII, or words that are not UTF-8");
        /* Its table, fitted to a terminal and in colour there, is the Swift client's. */
        if (!start.quiet && cjs_is_terminal(1)) return hand_over("a terminal");
    } else {
        if (!plain_selectors(argc, argv)) return hand_over("options, or selectors with % or bytes past ASCII");
        /* A terminal gets a table fitted to it, in colour, and a wait's progress. */
        if (cjs_is_terminal(1) || (verb == verb_wait && cjs_is_terminal(2))) return hand_over("a terminal");
    }
    if (is_set("JOB_MAX_OUTPUT") || is_set("JOB_REMOVE_AFTER") || is_set("JOB_RECONNECT_FOR") ||
        is_set("JOB_AGENT_TIMEOUT"))
        return hand_over("a JOB_ variable of the settings");
    char home[path_room], socket_path[128], shell[path_room];
    if (home_path(home, sizeof home) != 0) return hand_over("no absolute JOB_HOME or HOME, or one of 1,024 bytes or more");
    if (config_settings(home, shell, sizeof shell) != 0)
        return hand_over("a config file not read yet, or with settings the Swift client applies");
    cjw_buffer frame;
    cjw_empty(&frame);
    if (verb == verb_start) {
        cjw_buffer command;
        cjw_empty(&command);
        char directory[path_room];
        cjw_command_line(&command, (const char *const *)argv + start.first, argc - start.first);
        int plain = !command.failed && has_visible_byte(&command) && cjs_getcwd(directory, sizeof directory) == 0 &&
                    is_plain_string(directory);
        /* The table shows the command: printable ASCII there is shown as it is. */
        if (plain && !start.quiet) plain = cjw_is_printable_ascii(command.bytes, command.count);
        for (char *const *entry = environment; plain && *entry; entry++) plain = is_plain_string(*entry);
        if (!plain) {
            cjw_free(&command);
            return hand_over("a blank command, a folder or environment that is not UTF-8, a folder of 1,024 bytes or "
                             "more, or a command a table escapes");
        }
        unsigned mask = cjs_umask(022);
        cjs_umask(mask);
        cjw_start_frame(&frame, (const char *)command.bytes, command.count, start.name, directory,
                        (const char *const *)environment, shell, (int)mask);
        cjw_free(&command);
    } else if (verb == verb_wait) {
        cjw_wait_frame(&frame, (const char *const *)argv + 2, argc - 2, wait_slice);
    } else {
        cjw_get_frame(&frame, (const char *const *)argv + 2, argc - 2);
    }
    if (frame.failed || frame.count > maximum_request + 4) {
        cjw_free(&frame);
        return hand_over("a request over the agent's limit");
    }
    int fd = connect_agent(home, socket_path, sizeof socket_path);
    if (fd < 0) {
        cjw_free(&frame);
        return hand_over("no agent to connect to (the Swift client starts one)");
    }
    if (send_frame(fd, &frame) == 0) {
        cjs_receive_timeout(fd, (long)((verb == verb_wait ? wait_slice : 0) + patience));
        if (verb == verb_start) finish_start(fd, home, start.quiet);
        else finish_listing(fd, home, verb == verb_wait ? "wait" : "get", &frame);
    }
    cjs_close(fd);
    cjw_free(&frame);
    hand_over("the agent did not take the request, or answered what this side does not show");
}

/* The entry's C half: the kernel's initial stack is the argument count, the arguments, NULL,
   the environment, NULL. Returns when the Swift client is to run. */
__attribute__((used)) void cjob_front_entry(long *stack) {
    /* A pointer in data that holds its own address: it does not when the program still has to
       relocate itself (a static PIE), which the C library's start does; then wait for that. */
    static void *volatile self = (void *)&self;
    if (self != (void *)&self) return;
    front.tried = 1;
    int argc = (int)stack[0];
    char **argv = (char **)(stack + 1);
    front.environment = argv + argc + 1;
    if (argc < 2) return;
    cjs_use_arena(front.arena, sizeof front.arena);
    cjob_front_run(argc, argv, front.environment);
    cjs_use_arena(NULL, 0);
}

/* The program's entry (Package.swift names it to the linker, where the architecture has it):
   the fast path, then the C library's own entry with the stack and the register it was given
   (the dynamic loader's finaliser in rdx / x0). */
#if defined(__x86_64__)
__asm__(".text\n"
        ".globl cjob_entry\n"
        ".type cjob_entry, @function\n"
        "cjob_entry:\n"
        "    mov %rsp, %r12\n"
        "    mov %rdx, %r13\n"
        "    mov %rsp, %rdi\n"
        "    call cjob_front_entry\n"
        "    mov %r12, %rsp\n"
        "    mov %r13, %rdx\n"
        "    jmp _start\n"
        ".size cjob_entry, . - cjob_entry\n");
#elif defined(__aarch64__)
__asm__(".text\n"
        ".globl cjob_entry\n"
        ".type cjob_entry, %function\n"
        "cjob_entry:\n"
        "    mov x19, sp\n"
        "    mov x20, x0\n"
        "    mov x0, sp\n"
        "    bl cjob_front_entry\n"
        "    mov sp, x19\n"
        "    mov x0, x20\n"
        "    b _start\n"
        ".size cjob_entry, . - cjob_entry\n");
#endif

/* Where the entry is not used (another architecture), the fast path runs as a constructor,
   after the C library's start. */
__attribute__((constructor)) static void cjob_front(int argc, char **argv, char **environment) {
    if (front.tried) return;
    front.tried = 1;
    front.environment = environment;
    /* No arena here: the C library may have started threads of its own by now. */
    if (argc >= 2) cjob_front_run(argc, argv, environment);
}
