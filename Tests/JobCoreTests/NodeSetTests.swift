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
import Testing

/// Node sets as ClusterShell's NodeSet reads and writes them: ranges with their padding,
/// several ranges in one name, groups that name groups, and the folded form.
@Suite("node sets")
struct NodeSetTests {
    @Test(
        "expand: ranges keep their padding, several ranges give every combination, the last varying fastest",
        arguments: [
            ("web[01-03]", ["web01", "web02", "web03"]),
            ("node[1-3,5]", ["node1", "node2", "node3", "node5"]),
            ("node[08-11]", ["node08", "node09", "node10", "node11"]),
            ("n[9-10]", ["n9", "n10"]),
            ("rack[1-2]-n[01-02]", ["rack1-n01", "rack1-n02", "rack2-n01", "rack2-n02"]),
            ("web[1-2],db1,web1", ["web1", "web2", "db1", "web1"]),
            ("localhost", ["localhost"]),
            ("user@host:2222", ["user@host:2222"]),
            ("[1-2]x", ["1x", "2x"]),
        ])
    func expand(text: String, names: [String]) throws {
        #expect(try NodeSet.expand(text) == names)
    }

    @Test(
        "fold writes what expand reads, shortest where names share a shape, in the order they came",
        arguments: [
            "web[01-20,25]", "rack[1-2]-n[01-16]", "node[1-3,5]", "localhost,unreachable,server02", "web[1-2],db1",
            "n[8-12]", "a[1-3]b[1-2]c[7,9]",
        ])
    func roundTrip(text: String) throws {
        #expect(NodeSet.fold(try NodeSet.expand(text)) == text)
    }

    @Test("fold: numbers are sorted and joined into ranges; different padding is a different shape")
    func foldCases() {
        #expect(NodeSet.fold(["node1", "node2", "node10"]) == "node[1-2,10]")
        #expect(NodeSet.fold(["web03", "web01", "web02"]) == "web[01-03]")
        #expect(NodeSet.fold(["n1", "n01"]) == "n1,n01")
        #expect(NodeSet.fold(["r1-n1", "r1-n2", "r2-n1"]) == "r1-n[1-2],r2-n1")
        #expect(NodeSet.fold(["db1", "web1", "db2"]) == "db[1-2],web1")
        #expect(NodeSet.fold([]) == "")
    }

    @Test("a partial fold still expands back to the same names")
    func foldExpandsBack() throws {
        let names = ["r1-n1", "r1-n2", "r2-n1", "r3-n5", "x", "r2-n2", "r3-n6"]
        #expect(Set(try NodeSet.expand(NodeSet.fold(names))) == Set(names))
    }

    @Test(
        "bad syntax is refused with the position of the error",
        arguments: [
            ("web[01-", 4, "not closed"), ("web]", 4, "without its '['"), ("web[3-1]", 5, "goes down"),
            ("web[a-b]", 5, "must be numbers"), ("a,,b", 3, "an empty name"), ("web[]", 4, "empty brackets"),
            ("web[1,,2]", 7, "an empty range"), ("web[[1]]", 5, "inside brackets"), ("n[1-9999999]", 3, "more than"),
        ])
    func syntaxErrors(text: String, position: Int, problem: String) {
        #expect {
            _ = try NodeSet.expand(text)
        } throws: { error in
            guard let error = error as? NodeSet.SyntaxError else { return false }
            return error.position == position && error.problem.contains(problem)
                && error.description.hasPrefix("bad computer list '\(text)'")
        }
    }

    @Test("groups: @name from the groups file, groups naming groups, comments; unknown and circular groups refused")
    func groups() throws {
        let file = """
            # the fleet
            web: web[01-03]          # front ends
            db: db1 db2
            all: @web,@db,mail1
            loop: @again
            again: @loop
            """
        let groups = try NodeSet.groups(file: file, path: "groups")
        #expect(groups["db"] == "db1,db2")
        let lookup = { (name: String) in groups[name] }
        #expect(try NodeSet.expand("@all", groups: lookup) == ["web01", "web02", "web03", "db1", "db2", "mail1"])
        #expect(try NodeSet.expand("@web,web02,x", groups: lookup) == ["web01", "web02", "web03", "web02", "x"])
        #expect(throws: NodeSet.SyntaxError.self) { try NodeSet.expand("@nope", groups: lookup) }
        #expect {
            _ = try NodeSet.expand("@loop", groups: lookup)
        } throws: { error in
            (error as? NodeSet.SyntaxError)?.problem.contains("names itself") == true
        }
        #expect(throws: NodeSet.SyntaxError.self) { try NodeSet.groups(file: "just words\n", path: "g") }
    }
}
