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

import CJobSupport
import JobClient

#if canImport(Glibc)
    import Glibc
#endif

// Entry point: run one verb and map every outcome to the documented exit status
// (0 success, 1 failed or refused, 2 bad usage, 124 a wait timed out).
cjob_ignore_sigpipe()
// A blocked mask is inherited: a caller that blocks SIGINT would make Ctrl-C do nothing.
cjob_unblock_signals()
// What an agent this command started found wrong at its start (a damaged store set aside...).
JobClient.agentNoticeHandler.withLock { $0 = { Terminal.error("notice: " + $0) } }
do {
    // A relative JOB_HOME would name another home in every folder, each with its own agent.
    // getenv, not a dictionary of the environment: the first [String: String] costs the Swift
    // runtime a scan of every protocol conformance in the binary, which `job --version` need not pay.
    if let value = getenv("JOB_HOME"), case let home = String(cString: value), !home.isEmpty, !home.hasPrefix("/") {
        throw CLIFailure.usage("JOB_HOME must be an absolute path, not '\(home)'; for example JOB_HOME=$PWD/\(home)")
    }
    try JobCommand.run(Array(ProcessEnvironment.arguments().dropFirst()))
    exit(0)
} catch let failure as CLIFailure {
    if !failure.output.isEmpty { Terminal.out(failure.output) }
    if !failure.errorOutput.isEmpty { Terminal.errorText(failure.errorOutput) }
    if !failure.message.isEmpty { Terminal.error(failure.message) }
    exit(failure.status)
} catch let error as JobError {
    Terminal.error(error.message)
    exit(1)
} catch {
    Terminal.error("\(error)")
    exit(1)
}
