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

#ifndef CJOBFRONT_H
#define CJOBFRONT_H

/* The `job` program's fast path (Front.c): the program's entry (`cjob_entry`, linked into `job`
   alone), which answers a plain `job start --quiet`, `job wait` and `job get` before the C
   library and the Swift client start. It has nothing to call. */

#endif
