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

#ifndef CJOBSUPPORT_INTERNAL_H
#define CJOBSUPPORT_INTERNAL_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "CJobSupport.h"
#include "CJobSys.h"

/* What the supervisor hands a new monitor: everything its job is started with. */
typedef struct {
    const char *program;
    const char *working_directory;
    const char *monitor_name;
    const char *jobs_folder;
    char **argv;
    char **envp;
    mode_t umask;
    int stdin_fd, stdout_fd, stderr_fd;
    int hold_fd;  /* write end of the job's stdin pipe for the monitor to hold, or -1 */
} cjob_launch;

/* How a forked monitor answers the launch for the supervisor: on the launching agent's
   channel, once, with its end of the link passed alongside when the job started. */
typedef struct {
    int channel;        /* the agent's connection to the supervisor */
    uint64_t id;        /* the launch's id, said back in the answer */
    int agent_link;     /* the agent's end of the link, passed with the answer */
} cjob_launch_answer;

/* Runs in the forked monitor: starts the job, whose first act answers the launch with its
   pid and start time (else the monitor answers with the step that failed and its errno), then
   serves agents until its end is stored: `link_fd` is the monitor's end of the launching
   agent's link, served as the first peer. Never returns. */
void cjob_monitor_run(const cjob_launch *launch, const cjob_launch_answer *answer, int link_fd)
    __attribute__((noreturn));

/* Sends a launch's answer on `channel`, with `passed` (or -1) alongside, all of it. Only system
   calls (the child of a vfork sends it). */
void cjob_answer_launch(int channel, const cjob_supervisor_reply *reply, int passed);

/* The kernel's struct sigaction: all zeros is SIG_DFL with no flags and an empty mask. */
struct kernel_sigaction { void *handler; unsigned long flags; void *restorer; uint64_t mask; };

/* Closes (or marks close-on-exec) every descriptor from `first` up. */
void cjob_close_from(int first, int cloexec_only);

/* The signals a job's launch resets (`cjob_supervisor_main` sets them to those it ignores). */
extern uint64_t cjob_supervisor_ignored;

int cjob_monitor_address(const char *name, struct sockaddr_un *address, socklen_t *length);

#endif
