import CoordClient
import CoordTestKit
import StreamCore
import Synchronization
import Testing

/// The SDK's assignment calls against a node: changes as an async sequence, and a body per owned partition.
@Suite(.serialized) struct AssignmentClientTests {
    @Test(arguments: [Configuration(store: .memory, transport: .inProcess), Configuration(store: .file, transport: .webSocket)])
    func changesAreAcquiredWithFencesAndRevokedOnRebalance(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let client = harness.client
        try await withDeadline(seconds: 20) {
            var first = client.assignments(group: "indexers", partitions: 4, member: "a").makeAsyncIterator()
            var acquired: [AssignedPartition] = []
            while acquired.count < 4, let change = try await first.next() {
                if case .acquired(let partition) = change { acquired.append(partition) }
            }
            #expect(acquired.map(\.partition) == ["0", "1", "2", "3"])
            #expect(acquired.allSatisfy { $0.key == "$assign/indexers/\($0.partition)" && $0.fence > 0 })

            // b joins; a hands over two partitions as it asks for its next changes (each acknowledges the last).
            let second = Task {
                var iterator = client.assignments(group: "indexers", member: "b").makeAsyncIterator()
                var owned: [AssignedPartition] = []
                while owned.count < 2, let change = try await iterator.next() {
                    if case .acquired(let partition) = change { owned.append(partition) }
                }
                return owned
            }
            var revoked: [String] = []
            while revoked.count < 2, let change = try await first.next() {
                if case .revoked(let partition) = change { revoked.append(partition) }
            }
            let moved = try await second.value
            #expect(Set(moved.map(\.partition)) == Set(revoked))
            for partition in moved {
                #expect(partition.fence > acquired.first { $0.partition == partition.partition }!.fence)
            }
            let groups = try await client.assignmentGroups()
            #expect(groups.map(\.group) == ["indexers"])
        }
        await harness.shutdown()
    }

    @Test func withAssignmentRunsOneBodyPerOwnedPartitionAndNeverTwoAtOnce() async throws {
        let harness = try await Harness(Configuration(store: .memory, transport: .webSocket))
        let client = harness.client
        let ledger = BodyLedger()
        let a = Task { try await client.withAssignment(group: "g", membership: ledger.membership("a"), body: ledger.work("a")) }
        #expect(await eventually { ledger.running.withLock { $0.count } == 6 })
        let b = Task { try await client.withAssignment(group: "g", membership: ledger.membership("b"), body: ledger.work("b")) }
        #expect(await eventually { ledger.running.withLock { r in r.values.filter { $0 == "b" }.count == 3 && r.count == 6 } })
        a.cancel()
        await #expect(throws: CancellationError.self) { try await a.value }
        #expect(await eventually { ledger.running.withLock { r in r.count == 6 && r.values.allSatisfy { $0 == "b" } } },
                "without grace, a's partitions go to b once a's stream ends")
        b.cancel()
        _ = try? await b.value
        #expect(ledger.overlaps.withLock { $0 } == 0, "no partition ran two bodies at once")
        await harness.shutdown()
    }
}

/// Which member's body runs on each partition, and how often two ran at once.
final class BodyLedger: Sendable {
    let running = Mutex<[String: String]>([:])
    let overlaps = Mutex(0)

    func membership(_ member: String) -> AssignmentMembership {
        AssignmentMembership(member: member, partitions: .count(6), graceMs: 0, heartbeatIntervalMs: 200)
    }

    /// A body that marks its partition as worked on by `member` until it is cancelled (revoked).
    func work(_ member: String) -> @Sendable (AssignedPartition) async throws -> Void {
        { [self] partition in
            running.withLock { r in
                if r[partition.partition] != nil { overlaps.withLock { $0 += 1 } }
                r[partition.partition] = member
            }
            while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(20)) }
            running.withLock { r in if r[partition.partition] == member { r[partition.partition] = nil } }
        }
    }
}
