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

#ifndef CJOB_AGENT_ENTRY_H
#define CJOB_AGENT_ENTRY_H

/* Nothing to call: the supervisor's entry is a constructor (Entry.c). Imported by job-agent so
   that the object is linked. */
int cjob_agent_entry_linked(void);

#endif
