import Foundation
import JobCore
import JobStore
import Testing

@testable import JobAgent

/// The job table alone: no processes, files or store.
@Suite("the job table")
struct JobTableTests {
    static func job(_ id: Int, parent: Int? = nil, state: JobState = .notStarted) -> StoredJob {
        StoredJob(
            id: id, parentId: parent, instanceId: "i\(id)", name: "Job\(id)",
            type: parent == nil ? "BackgroundJob" : "",
            location: "localhost", command: "true", workingDirectory: "/", shell: "/bin/sh", state: state)
    }

    /// A table with a new job of `count` children, made the way the registry makes one.
    static func adding(_ count: Int, to table: inout JobTable, state: JobState = .running) -> (Int, [Int]) {
        let ids = table.nextIds(children: count)
        table.add(job(ids.parent), ids.children.map { job($0, parent: ids.parent, state: state) })
        return ids
    }

    @Test("new jobs take the next Ids, parent first; loading from the store keeps the order and the counter")
    func ids() {
        var table = JobTable(lastId: 10)
        let (parent, kids) = Self.adding(2, to: &table)
        #expect(parent == 11 && kids == [12, 13])
        #expect(table.lastId == 13 && table.orderedIds == [11, 12, 13])
        #expect(table.children[11] == [12, 13])
        #expect(table.nextIds(children: 1) == (14, [15]))

        var loaded = JobTable(lastId: 20)
        for stored in [Self.job(3), Self.job(4, parent: 3), Self.job(7), Self.job(8, parent: 7)] { loaded.load(stored) }
        #expect(loaded.orderedIds == [3, 4, 7, 8] && loaded.children == [3: [4], 7: [8]])
        // The store's counter is past removed jobs' Ids: they are not given again.
        #expect(loaded.nextIds(children: 0).parent == 21)
    }

    @Test("a parent's state follows its children; finished means every child finished, or gone")
    func states() {
        var table = JobTable(lastId: 0)
        let (parent, kids) = Self.adding(2, to: &table)
        #expect(table.state(of: parent) == .running && !table.isFinished(parent))
        table[kids[0]]?.state = .completed
        #expect(table.state(of: parent) == .running && table.isFinished(kids[0]))
        table[kids[1]]?.state = .failed
        #expect(table.state(of: parent) == .failed && table.isFinished(parent))
        #expect(table.isFinished(99) && table.state(of: 99) == nil)
    }

    @Test("a changed child forgets its encoded record and its parent's; others keep theirs")
    func encodedRecords() throws {
        var table = JobTable(lastId: 0)
        let (first, firstKids) = Self.adding(1, to: &table)
        let (second, _) = Self.adding(1, to: &table)
        for id in table.orderedIds { table.slots[id]?.encoded = [1] }
        table[firstKids[0]]?.outputRead = 5
        #expect(table.slots[firstKids[0]]?.encoded == nil)
        #expect(table.slots[first]?.encoded == nil)
        #expect(table.slots[second]?.encoded == [1])
    }

    @Test("removing a parent takes its children; the order skips them; Ids are not reused")
    func removal() {
        var table = JobTable(lastId: 0)
        let (first, firstKids) = Self.adding(2, to: &table)
        let (second, _) = Self.adding(1, to: &table)
        let removed = table.removeParent(first)
        #expect(removed.map(\.id) == firstKids)
        #expect(table[first] == nil && firstKids.allSatisfy { table[$0] == nil })
        #expect(table.parentSlots.map(\.job.id) == [second])
        #expect(table.nextIds(children: 0).parent == 6)
        // A child set to nil leaves its parent's list.
        let (third, thirdKids) = Self.adding(2, to: &table)
        table[thirdKids[0]] = nil
        #expect(table.children[third] == [thirdKids[1]])
    }

    @Test("many removals: the order is compacted, and stays right")
    func compaction() {
        var table = JobTable(lastId: 0)
        var parents: [Int] = []
        for _ in 0..<3000 { parents.append(Self.adding(1, to: &table).0) }
        for parent in parents.prefix(2500) { table.removeParent(parent) }
        #expect(table.orderedIds.count < 6000)
        #expect(table.parentSlots.map(\.job.id) == Array(parents.suffix(500)))
    }
}
