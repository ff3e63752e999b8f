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

// `import JobClient` is all a program needs: the job and session types (JobCore) and the
// protocol's requests and replies (JobProtocol) come with it.
@_exported import JobCore
@_exported import JobProtocol
