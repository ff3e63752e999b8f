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

import CJobAgentEntry
import JobAgent
import JobClient
import JobConfig
import JobCore

#if canImport(Glibc)
    import Glibc
#endif

// `job-agent`: the agent and the supervisor, in an executable of their own so that the `job`
// client that every verb runs links neither the store nor full Foundation. `job` starts it
// (it is found beside `job`); a person runs it only through `job agent run`.
//
//     job-agent run [--home PATH] [--ready-fd N]   the agent of a JOB_HOME, in the foreground
//     job-agent supervise                          the supervisor (started by the agent)
//     job-agent settings FILE CACHE                parses the config file into the cache that
//                                                  `job` reads (it does not link TOMLKit)

func usage() -> Never {
    let text =
        "usage: job-agent run [--home PATH] [--ready-fd N] | job-agent supervise | job-agent settings FILE CACHE\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
    exit(2)
}

func fail(_ message: String, readyFD: Int32?) -> Never {
    let line = "job-agent: " + message + "\n"
    if let readyFD { _ = (message + "\n").withCString { write(readyFD, $0, strlen($0)) } }
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(1)
}

let arguments = ProcessEnvironment.arguments().dropFirst()
switch arguments.first {
case "supervise":
    // Reached only when the constructor in CJobAgentEntry did not run the supervisor (a call
    // with more arguments than it expects is then refused here as before).
    _ = cjob_agent_entry_linked()
    Agent.supervise()
case "settings":
    let rest = Array(arguments.dropFirst())
    guard rest.count == 2 else { usage() }
    JobSettings.writeCache(file: rest[0], cache: rest[1])
    exit(0)
case "run":
    var home: String?
    var readyFD: Int32?
    var rest = arguments.dropFirst()
    while let option = rest.popFirst() {
        guard let value = rest.popFirst() else { usage() }
        switch option {
        case "--home": home = value
        case "--ready-fd": readyFD = Int32(value) ?? { usage() }()
        default: usage()
        }
    }
    let environment = ProcessEnvironment.dictionary()
    let jobHome = home.map(JobHome.init(path:)) ?? JobHome.resolve(environment: environment)
    let agent: Agent
    do {
        agent = try Agent(home: jobHome, environment: environment)
    } catch {
        fail("\(error)", readyFD: readyFD)
    }
    exit(agent.run(readyFD: readyFD))
default:
    usage()
}
