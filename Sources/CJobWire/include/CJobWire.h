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

#ifndef CJOBWIRE_H
#define CJOBWIRE_H

#include <stddef.h>
#include <stdint.h>

#include "CJobSys.h"

/* The protocol's frames for the verbs `job` answers without the Swift runtime (CJobFront):
   a plain start, a wait and a get of selectors. The encoding is JobProtocol's (Tagged.swift):
   these functions write the bytes the Swift encoder writes for the same request, and read the
   replies it reads; JobProtocolTests checks both against it. */

/* Bytes that grow; `failed` once an allocation failed (the bytes are then not to be used). */
typedef struct {
    unsigned char *bytes;
    size_t count;
    size_t capacity;
    int failed;
} cjw_buffer;

/* An empty buffer (`= {0}` would be a call to memset in an unoptimised build: CJobSys.h). */
void cjw_empty(cjw_buffer *buffer);
void cjw_free(cjw_buffer *buffer);

/* The command text of `job start WORD...`: one word as it is, several each quoted for the
   shell (plain words as they are, the others in single quotes), joined by spaces. */
void cjw_command_line(cjw_buffer *out, const char *const *words, int count);

/* Whole frames, their 4-byte length first. `name` may be NULL (the agent names it JobN);
   `environment` ends with NULL. */
void cjw_start_frame(cjw_buffer *out, const char *command, size_t command_length, const char *name,
                     const char *directory, const char *const *environment, const char *shell, int umask);
/* A wait for the jobs the selectors name (none: every unfinished job), that the agent answers
   as timed out after `timeout` seconds. */
void cjw_wait_frame(cjw_buffer *out, const char *const *selectors, int count, double timeout);
/* A get of the rows the selectors name (none: every parent). */
void cjw_get_frame(cjw_buffer *out, const char *const *selectors, int count);

/* What a reply was. */
enum {
    /* Read, and shown or handed back. */
    CJW_OK = 0,
    /* The agent refused: `message` says why. */
    CJW_REFUSED = 1,
    /* A reply this side does not show (problems, cells that are not plain ASCII, another
       computer's rows): the Swift client answers it. */
    CJW_OTHER = 2,
    /* A wait that timed out (a slice of a longer wait): the Ids of the jobs it waits for, each
       ending in a NUL byte, in place of the table. */
    CJW_TIMED_OUT = 3,
    /* Not a reply of this protocol to this verb. */
    CJW_MALFORMED = -1,
};

/* A start's reply (the frame's body, without its length): the new job's Id, and with `table`
   (else NULL) the table `job start` prints of it into a pipe or a file: its one row, the cells
   as the agent gave them (the caller checked the command and the name to be printable ASCII). */
int cjw_read_start_reply(const unsigned char *body, size_t length, long long *id, cjw_buffer *table,
                         const unsigned char **message, size_t *message_length);

/* A wait's or a get's reply: the jobs as `job` prints them into a pipe or a file (the table of
   JobFormatter.tableBytes without a width and without colours). `verb` is "wait" or "get".
   When a wait timed out, `table` holds the Ids of its jobs instead (CJW_TIMED_OUT). */
int cjw_read_jobs_reply(const unsigned char *body, size_t length, const char *verb, cjw_buffer *table,
                        const unsigned char **message, size_t *message_length);

/* Whether the bytes are text the Swift client sends as they are: valid UTF-8 with no byte
   0xF4 (whose scalars LosslessText uses for bytes that are not UTF-8). */
int cjw_is_plain_text(const unsigned char *text, size_t length);

/* Whether the bytes are all printable ASCII (0x20 to 0x7E): a table shows them as they are. */
int cjw_is_printable_ascii(const unsigned char *text, size_t length);

/* `number` in decimal into `out` (room for 21 bytes), without a NUL; returns its length. */
size_t cjw_decimal(long long number, char *out);

#endif
