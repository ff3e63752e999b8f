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

import Foundation
import JobTestSupport
import Testing

/// The Debian package, for real: built by `scripts/package-deb`, installed with `dpkg -i`, used
/// from `/usr/bin`, and removed with `dpkg -r`. Needs root, as CI runs.
@Suite("the Debian package", .timeLimit(.minutes(10)))
struct PackageTests {
    let home: TestHome

    init() throws { home = try TestHome() }

    func run(_ program: String, _ arguments: [String], environment: [String: String]? = nil) throws -> CommandResult {
        try TestHome.run(
            program, arguments, stdin: nil, environment: environment ?? ProcessInfo.processInfo.environment,
            directory: "/", timeout: 300)
    }

    /// The files the package puts on the system.
    static let files = [
        "/usr/bin/job", "/usr/bin/job-agent", "/usr/share/man/man1/job.1.gz",
        "/usr/share/bash-completion/completions/job", "/usr/share/zsh/vendor-completions/_job",
        "/usr/share/fish/vendor_completions.d/job.fish", "/usr/lib/systemd/user/job-agent.service",
        "/usr/share/doc/job/copyright",
    ]

    @Test(
        "scripts/package-deb builds a .deb; dpkg -i installs it under a private root, job runs from there, man reads it, the unit verifies, dpkg -r removes it all; the host's packages are never touched"
    )
    func installAndRemove() throws {
        #expect(
            FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze"), "systemd (.ci/run installs it)")
        // What the host has of the package, before and after: never changed by a test.
        let hostBefore = try run("/usr/bin/dpkg-query", ["-W", "-f=${Status} ${Version}", "job"]).stdout
        let output = home.scratch + "/debs"
        var environment = ProcessInfo.processInfo.environment
        environment["JOB_BIN_DIR"] = ShellTests.binaryFolder
        let built = try run(ShellTests.packageRoot + "/scripts/package-deb", [output], environment: environment)
        #expect(built.status == 0, "\(built.stderr)")
        let deb = built.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(deb.hasSuffix(".deb") && FileManager.default.fileExists(atPath: deb))
        let fields = try run("/usr/bin/dpkg-deb", ["-f", deb, "Package", "Version", "Architecture"])
        #expect(fields.stdout.contains("Package: job\n") && fields.stdout.contains("Version: 0."))
        // The package has no maintainer scripts, so a private root (with its own dpkg database)
        // installs exactly what a system would.
        let control = try run("/usr/bin/dpkg-deb", ["-I", deb]).stdout
        for script in ["preinst", "postinst", "prerm", "postrm"] { #expect(!control.contains(" \(script) ")) }

        let root = home.scratch + "/root"
        for folder in ["/var/lib/dpkg/info", "/var/lib/dpkg/updates"] {
            try FileManager.default.createDirectory(atPath: root + folder, withIntermediateDirectories: true)
        }
        #expect(FileManager.default.createFile(atPath: root + "/var/lib/dpkg/status", contents: nil))
        let dpkg = ["--root=" + root, "--force-script-chrootless", "--force-not-root"]
        let installed = try run("/usr/bin/dpkg", dpkg + ["-i", deb])
        #expect(installed.status == 0, "\(installed.stderr)")
        for file in Self.files { #expect(FileManager.default.fileExists(atPath: root + file), "\(file)") }

        // From the root's usr/bin: a job, its output, and the agent found beside job.
        let jobEnvironment = ["PATH": "/usr/bin:/bin", "JOB_HOME": home.path, "HOME": home.scratch]
        let job = root + "/usr/bin/job"
        let started = try run(job, ["start", "--quiet", "echo from the package"], environment: jobEnvironment)
        #expect(started.status == 0 && started.stdout == "1\n", "\(started.stderr)")
        let received = try run(job, ["receive", "1", "--wait"], environment: jobEnvironment)
        #expect(received.stdout == "from the package\n")
        let status = try run(job, ["agent", "status", "--format", "json"], environment: jobEnvironment)
        let object = try JSONSerialization.jsonObject(with: Data(status.stdoutBytes)) as? [String: Any]
        let pid = try #require(object?["pid"] as? Int)
        #expect(
            try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe") == root + "/usr/bin/job-agent"
        )
        #expect(object?["systemdUnit"] is NSNull)
        #expect(try run(job, ["agent", "stop"], environment: jobEnvironment).status == 0)

        let manual = try run(
            "/usr/bin/man", ["-l", root + "/usr/share/man/man1/job.1.gz"],
            environment: ["PATH": "/usr/bin:/bin", "MANPAGER": "cat", "MANWIDTH": "100", "HOME": home.scratch])
        #expect(manual.status == 0 && manual.stdout.contains("EXIT STATUS"), "\(manual.stderr)")
        // The unit as installed names /usr/bin/job-agent; verified with that path in the root.
        let unit = try String(contentsOfFile: root + "/usr/lib/systemd/user/job-agent.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/bin/job-agent run\n") && unit.contains("KillMode=process\n"))
        #expect(unit.contains("Restart=on-failure\n"))
        let copy = home.scratch + "/unit/job-agent.service"
        try FileManager.default.createDirectory(atPath: home.scratch + "/unit", withIntermediateDirectories: true)
        try unit.replacingOccurrences(of: "/usr/bin/job-agent", with: root + "/usr/bin/job-agent")
            .write(toFile: copy, atomically: true, encoding: .utf8)
        var verifyEnvironment = ProcessInfo.processInfo.environment
        verifyEnvironment["MANPATH"] = root + "/usr/share/man"
        let verified = try run("/usr/bin/systemd-analyze", ["verify", copy], environment: verifyEnvironment)
        #expect(verified.status == 0, "\(verified.stderr)")

        let removed = try run("/usr/bin/dpkg", dpkg + ["-r", "job"])
        #expect(removed.status == 0, "\(removed.stderr)")
        for file in Self.files { #expect(!FileManager.default.fileExists(atPath: root + file), "\(file) is left") }
        let hostAfter = try run("/usr/bin/dpkg-query", ["-W", "-f=${Status} ${Version}", "job"]).stdout
        #expect(hostAfter == hostBefore)
    }
}

@Suite("the agent under a service manager", .timeLimit(.minutes(10)))
struct ServiceTests {
    @Test("agent status names the systemd unit whose cgroup holds the agent, and none otherwise")
    func systemdUnit() throws {
        let home = try TestHome()
        let hierarchy = "/sys/fs/cgroup/systemd"
        #expect(
            FileManager.default.fileExists(atPath: hierarchy + "/cgroup.procs"), "the name=systemd cgroup hierarchy")
        #expect(try home.job("get").status == 0)
        func unit() throws -> Any? {
            let status = try home.job("agent", "status", "--format", "json")
            let object = try JSONSerialization.jsonObject(with: Data(status.stdoutBytes)) as? [String: Any]
            return object?["systemdUnit"]
        }
        #expect(try unit() is NSNull)
        let pid = try #require(try home.agentPid())
        let slice = hierarchy + "/user.slice/user-\(getuid()).slice"
        let service = slice + "/user@\(getuid()).service/app.slice/job-agent-\(UUID().uuidString.prefix(8)).service"
        try FileManager.default.createDirectory(atPath: service, withIntermediateDirectories: true)
        defer {
            try? "\(pid)\n".write(toFile: hierarchy + "/cgroup.procs", atomically: false, encoding: .utf8)
            rmdir(service)
        }
        try "\(pid)\n".write(toFile: service + "/cgroup.procs", atomically: false, encoding: .utf8)
        #expect(try unit() as? String == URL(fileURLWithPath: service).lastPathComponent)
        let text = try home.job("agent", "status").stdout
        #expect(text.contains("Managed   : by systemd, unit job-agent-"))
        try "\(pid)\n".write(toFile: hierarchy + "/cgroup.procs", atomically: false, encoding: .utf8)
        #expect(try unit() is NSNull)
    }
}
