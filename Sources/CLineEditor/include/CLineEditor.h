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

#ifndef CLINEEDITOR_H
#define CLINEEDITOR_H

/// Line editing for `job enter` at a terminal, through libedit (Debian's libedit, readline
/// interface): editing keys, history (Up, Ctrl-R), and Ctrl-C that abandons the line.

/// Reads one line, edited, after `prompt`. Returns it without its newline (free it), or NULL:
/// `*interrupted` is then 1 when Ctrl-C abandoned the line, 0 at end-of-file (Ctrl-D).
char *cjob_edit_line(const char *prompt, int *interrupted);

/// Adds a line to the history (Up recalls it).
void cjob_edit_remember(const char *line);

/// Loads the history from a file, if there is one.
void cjob_edit_load_history(const char *path);

/// Saves the history to a file (private, at most `limit` lines).
void cjob_edit_save_history(const char *path, int limit);

#endif
