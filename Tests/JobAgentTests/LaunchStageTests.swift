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
import Glibc
import Testing

@testable import JobAgent

/// The failed step of a launch crosses the C boundary by name (`cjob_launch_stage`), and each
/// named step reads as the user's words for it.
@Suite("launch stages")
struct LaunchStageTests {
    static func reason(_ stage: cjob_launch_stage, _ error: Int32) -> String {
        Supervisor.launchReason(stage: Int(stage.rawValue), error: error, shell: "/bin/zsh", workingDirectory: "/nope")
    }

    @Test("each stage and errno in words")
    func words() {
        #expect(Self.reason(CJOB_STAGE_DIRECTORY, ENOENT) == "working directory /nope does not exist")
        #expect(Self.reason(CJOB_STAGE_DIRECTORY, ENOTDIR) == "working directory /nope is not a folder")
        #expect(Self.reason(CJOB_STAGE_EXEC, ENOENT) == "shell /bin/zsh does not exist")
        #expect(Self.reason(CJOB_STAGE_EXEC, E2BIG).hasPrefix("the command is too long to run"))
        #expect(
            Self.reason(CJOB_STAGE_OUTPUT, ENOSPC).hasPrefix("the disk is full: cannot create the job's output files"))
        #expect(Self.reason(CJOB_STAGE_MONITOR, EMFILE).hasPrefix("cannot start the job's monitor"))
        for stage in [CJOB_STAGE_RESOURCES, CJOB_STAGE_PIPE, CJOB_STAGE_RECORD] {
            #expect(Self.reason(stage, ENOMEM).hasPrefix("cannot start the job: "))
        }
        // The numbers the C side writes are the ones it always wrote (a monitor of the last
        // build reports its failure to the next agent).
        #expect(
            [CJOB_STAGE_DIRECTORY, CJOB_STAGE_EXEC, CJOB_STAGE_OUTPUT, CJOB_STAGE_MONITOR].map(\.rawValue) == [
                1, 2, 3, 7,
            ])
    }
}
