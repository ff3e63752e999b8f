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

import JobCore

#if canImport(Glibc)
    import Glibc
#endif

/// A command line that `/bin/sh -c` would only split into words and run (`sleep 30`, `make
/// -j4 test`), run without the shell, as make does: the same program with the same words,
/// environment and folder, one process (and one exec) fewer. Anything the shell could read
/// another way goes to the shell: quotes, `$`, globs, `~`, redirections, `;`, `&`, `|`, an
/// assignment before the command, a word the shell keeps for itself (`cd`, `exit`, `echo`,
/// `kill`...), a program not found on the job's PATH (the shell's "not found" and status 127
/// are what the user sees), another shell than `/bin/sh`.
struct DirectCommand: Equatable {
    var program: String
    var argv: [String]
    var environment: [String]

    /// The direct form of `command`, or nil when it is for the shell. `environment` is the
    /// job's, whose PATH is searched; relative entries and programs name paths in
    /// `workingDirectory`, as they would for the shell started there.
    static func plan(
        _ command: String, shell: String, environment: [String], workingDirectory: String,
        isProgram: (String) -> Bool = DirectCommand.isProgram
    ) -> DirectCommand? {
        guard shell == "/bin/sh", let words = words(command), let first = words.first,
            !first.utf8.contains(UInt8(ascii: "=")), !shellWords.contains(first)
        else { return nil }
        // `true` and `false` are the shell's own, and a program's of the same name; alike
        // with no arguments (`true --help` is not).
        if first == "true" || first == "false", words.count > 1 { return nil }
        // One look at the environment: the last PATH and PWD, as the shell takes them.
        var searchPath: Substring?
        var pwd: Substring?
        for entry in environment {
            if entry.hasPrefix("PATH=") { searchPath = entry.dropFirst(5) }
            if entry.hasPrefix("PWD=") { pwd = entry.dropFirst(4) }
        }
        var path: String?
        if first.utf8.contains(UInt8(ascii: "/")) {
            let candidate = first.hasPrefix("/") ? first : workingDirectory + "/" + first
            if isProgram(candidate) { path = candidate }
        } else {
            // Split on the bytes: a split of the String by Characters cost more than the rest
            // of a start's planning together.
            let entries = (searchPath ?? defaultPath[...]).utf8
            var start = entries.startIndex
            while path == nil {
                let end = entries[start...].firstIndex(of: UInt8(ascii: ":")) ?? entries.endIndex
                let folder = Substring(entries[start..<end])
                let base =
                    folder.isEmpty
                    ? workingDirectory
                    : folder.utf8.first == UInt8(ascii: "/") ? String(folder) : workingDirectory + "/" + String(folder)
                let candidate = base + "/" + first
                if isProgram(candidate) { path = candidate }
                guard end != entries.endIndex else { break }
                start = entries.index(after: end)
            }
        }
        guard let path else { return nil }
        return DirectCommand(program: path, argv: words, environment: withPWD(environment, pwd, workingDirectory))
    }

    /// The words of a command line with nothing but letters, digits, `_@%+=:,./-` and spaces;
    /// nil for any other character.
    static func words(_ command: String) -> [String]? {
        var words: [String] = []
        var word: [UInt8] = []
        for byte in command.utf8 {
            if byte == 0x20 {
                if !word.isEmpty { words.append(String(decoding: word, as: UTF8.self)) }
                word.removeAll(keepingCapacity: true)
            } else if ShellWords.isPlain(byte) {
                word.append(byte)
            } else {
                return nil
            }
        }
        if !word.isEmpty { words.append(String(decoding: word, as: UTF8.self)) }
        return words.isEmpty ? nil : words
    }

    /// The words dash and POSIX shells keep for themselves: reserved words, special and
    /// regular builtins (their own `echo`, `printf`, `pwd`, `kill`, `test` differ from the
    /// programs of those names in small ways).
    static let shellWords: Set<String> = [
        "!", "{", "}", "case", "do", "done", "elif", "else", "esac", "fi", "for", "if", "in", "then", "until",
        "while", "function", "select", ".", ":", "alias", "bg", "break", "cd", "chdir", "command", "continue", "echo",
        "eval", "exec", "exit", "export", "fc", "fg", "getopts", "hash", "jobs", "kill", "local", "printf", "pwd",
        "read", "readonly", "return", "set", "shift", "test", "times", "trap", "type", "ulimit", "umask", "unalias",
        "unset", "wait",
    ]

    /// dash's search path when the environment has no PATH.
    static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// A regular file this user may execute that the kernel runs itself: a binary (ELF) or a
    /// script whose `#!` names an interpreter that is there. A script without one the shell
    /// runs as a script of its own; one whose interpreter is missing the shell reports as not
    /// found (127), where an exec of it would fail the launch.
    static func isProgram(_ path: String) -> Bool {
        guard isExecutableFile(path) else { return false }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: 256)
        let count = head.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count >= 4 else { return false }
        if head[0] == 0x7F && head[1] == UInt8(ascii: "E") && head[2] == UInt8(ascii: "L")
            && head[3] == UInt8(ascii: "F")
        {
            return true
        }
        guard head[0] == UInt8(ascii: "#"), head[1] == UInt8(ascii: "!") else { return false }
        let line = head[2..<count].prefix { $0 != 0x0A }.drop { $0 == 0x20 || $0 == 0x09 }
        // As the kernel reads it: a carriage return is part of the name.
        let interpreter = line.prefix { $0 != 0x20 && $0 != 0x09 }
        guard interpreter.first == UInt8(ascii: "/") else { return false }
        return isExecutableFile(String(decoding: interpreter, as: UTF8.self))
    }

    private static func isExecutableFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG && access(path, X_OK) == 0
    }

    /// The length of an entry's name when it is one a shell variable can have (the shell drops
    /// the others), and a hash of it; nil for any other entry. One pass over the bytes.
    private static func variableName(_ entry: String) -> (length: Int, hash: UInt64)? {
        var entry = entry
        return entry.withUTF8 { bytes -> (length: Int, hash: UInt64)? in
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for (offset, byte) in bytes.enumerated() {
                if byte == UInt8(ascii: "=") { return offset == 0 ? nil : (offset, hash) }
                let letter = (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == UInt8(ascii: "_")
                guard letter || (offset > 0 && (0x30...0x39).contains(byte)) else { return nil }
                hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
            }
            return nil
        }
    }

    /// The environment as the shell passes it on: the variables it can hold, the last entry of
    /// each name, and PWD naming the folder the command runs in (the shell sets it when the
    /// inherited one names another folder, or is missing).
    static func withPWD(_ environment: [String], _ pwd: Substring?, _ workingDirectory: String) -> [String] {
        // Names are told apart by a hash of their bytes; a name whose hash was seen is most
        // likely the same name, looked for among those kept.
        var seen = Set<UInt64>(minimumCapacity: environment.count)
        var kept: [String] = []
        kept.reserveCapacity(environment.count + 1)
        for entry in environment.reversed() {
            guard let (length, hash) = variableName(entry) else { continue }
            if !seen.insert(hash).inserted {
                let key = entry.utf8.prefix(length + 1)
                if kept.contains(where: { $0.utf8.starts(with: key) }) { continue }
            }
            kept.append(entry)
        }
        kept.reverse()
        if let pwd, pwd.hasPrefix("/"), sameFolder(String(pwd), workingDirectory) { return kept }
        return kept.filter { !$0.hasPrefix("PWD=") } + ["PWD=" + workingDirectory]
    }

    private static func sameFolder(_ one: String, _ other: String) -> Bool {
        if one == other { return true }
        var a = stat()
        var b = stat()
        return stat(one, &a) == 0 && stat(other, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino
    }
}
