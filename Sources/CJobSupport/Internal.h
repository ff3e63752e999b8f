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

/* Runs in the forked monitor: starts the job, reports its pid and start time on `report_fd`
   (or a negative step and errno), then serves agents until its end is stored: `link_fd` (or
   -1) is a connection the supervisor hands the launching agent, served as the first peer.
   Never returns. */
void cjob_monitor_run(const cjob_launch *launch, int report_fd, int link_fd) __attribute__((noreturn));

/* Closes (or marks close-on-exec) every descriptor from `first` up. */
void cjob_close_from(int first, int cloexec_only);

/* The signals a job's launch resets (`cjob_supervisor_main` sets them to those it ignores). */
extern uint64_t cjob_supervisor_ignored;

int cjob_monitor_address(const char *name, struct sockaddr_un *address, socklen_t *length);

#endif
