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

/* The `job` program's fast path (Front.c): a constructor, linked into `job` alone, that answers
   a plain `job start --quiet`, `job wait` and `job get` before the Swift client starts. It has
   nothing to call. */

#endif
