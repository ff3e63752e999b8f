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

#include "CJobAgentEntry.h"
#include "CJobSupport.h"

#include <stdlib.h>
#include <string.h>

/*
 * `job-agent supervise` runs the supervisor from here, a constructor that runs before every
 * other (priority 101), so before the Swift runtime and Foundation set themselves up: the
 * supervisor is C, and every page those would touch is a page each fork of a monitor must
 * copy the mapping of, and each monitor's exit must take down. The supervisor then forks
 * from a process of 2.1 MB resident rather than 8.1 (measured on the release build).
 * (docs/decisions.md, "The supervisor starts from a constructor, before the Swift runtime".)
 */
__attribute__((constructor(101))) static void cjob_agent_entry(int argc, char **argv, char **envp) {
    (void)envp;
    if (argc != 2 || !argv || !argv[1] || strcmp(argv[1], "supervise") != 0) return;
    cjob_set_process_name("job-supervisor");
    /* Each monitor writes its name over these (`ps`, `pkill -f`), and the constructor that
       would have remembered them has not run. */
    cjob_remember_arguments(argc, argv);
    cjob_supervisor_main(3);
    exit(0);
}

int cjob_agent_entry_linked(void) { return 1; }
