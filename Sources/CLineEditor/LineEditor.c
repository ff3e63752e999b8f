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

#include "CLineEditor.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <editline/readline.h>

static volatile sig_atomic_t interrupted_flag;

static void on_interrupt(int signal_number) {
    (void)signal_number;
    interrupted_flag = 1;
}

char *cjob_edit_line(const char *prompt, int *interrupted) {
    /* Ctrl-C at the prompt must end the read (no SA_RESTART) and go nowhere else: the handler
       the caller has (which stops a running command) is set aside meanwhile. */
    struct sigaction mine, theirs;
    memset(&mine, 0, sizeof mine);
    mine.sa_handler = on_interrupt;
    sigemptyset(&mine.sa_mask);
    interrupted_flag = 0;
    sigaction(SIGINT, &mine, &theirs);
    char *line = readline(prompt);
    sigaction(SIGINT, &theirs, NULL);
    *interrupted = line == NULL && interrupted_flag;
    return line;
}

void cjob_edit_remember(const char *line) { add_history(line); }

void cjob_edit_load_history(const char *path) { read_history(path); }

void cjob_edit_save_history(const char *path, int limit) {
    mode_t old = umask(077);
    if (write_history(path) == 0) history_truncate_file(path, limit);
    umask(old);
}
