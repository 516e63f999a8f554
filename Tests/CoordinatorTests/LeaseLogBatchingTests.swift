@testable import Coordinator
import CoordTestKit
import LeaseEngine
import StreamCore
import Synchronization
import Testing

/// The lease log's group commit: one append in flight, events in engine order.
@Suite struct LeaseLogBatchingTests {
    private static func event(_ n: UInt64) -> LeaseEvent {
        .granted(key: "k\(n)", holder: "h", token: n, ttlMs: 1_000, boundTo: nil)
    }

    /// Appends seen by the writer; the first one waits for `release` when `holdFirst` is set.
    private final class Log: Sendable {
        let appended = Mutex<[[LeaseEvent]]>([])
        let release = Wakeup()
        let failFirst: Bool
        let holdFirst: Bool

        init(holdFirst: Bool = false, failFirst: Bool = false) {
            self.holdFirst = holdFirst
            self.failFirst = failFirst
        }

        func append(_ events: [LeaseEvent]) async throws(StreamsError) {
            let first = appended.withLock { list -> Bool in
                list.append(events)
                return list.count == 1
            }
            if first && holdFirst { await release.wait() }
            if first && failFirst { throw .storage("disk full") }
        }

        var count: Int { appended.withLock { $0.count } }
    }

    @Test func eventsArrivingDuringAnAppendGoTogetherIntoTheNextInOrder() async throws {
        let log = Log(holdFirst: true)
        let writer = LeaseLogWriter { events throws(StreamsError) in try await log.append(events) }
        try await withDeadline {
            let first = writer.enqueue([Self.event(1)])
            let firstDone = Task { try await writer.waitDurable(first) }
            #expect(await eventually { log.count == 1 }, "the first waiter appends its batch")
            let second = writer.enqueue([Self.event(2)])
            let third = writer.enqueue([Self.event(3), Self.event(4)])
            #expect(first == 1 && second == 2 && third == 2, "while an append is in flight, new events share the next batch")
            let secondDone = Task { try await writer.waitDurable(second) }
            let thirdDone = Task { try await writer.waitDurable(third) }
            try await Task.sleep(for: .milliseconds(20))
            #expect(log.count == 1, "nothing else is appended while the first append waits")
            log.release.signal()
            try await firstDone.value
            try await secondDone.value
            try await thirdDone.value
        }
        #expect(log.appended.withLock { $0 } == [[Self.event(1)], [Self.event(2), Self.event(3), Self.event(4)]])
    }

    @Test func aFailedAppendFailsOnlyTheRequestsOfItsBatch() async throws {
        let log = Log(failFirst: true)
        let writer = LeaseLogWriter { events throws(StreamsError) in try await log.append(events) }
        try await withDeadline {
            let failed = writer.enqueue([Self.event(1)])
            let alsoFailed = writer.enqueue([Self.event(2)])
            #expect(failed == alsoFailed, "one batch")
            await #expect(throws: StreamsError.storage("disk full")) { try await writer.waitDurable(failed) }
            // The other request of the failed batch learns it too, however late it asks.
            #expect(writer.unreadFailures == 1)
            await #expect(throws: StreamsError.storage("disk full")) { try await writer.waitDurable(alsoFailed) }
            #expect(writer.unreadFailures == 0, "a failure is kept only until every request of its batch has read it")
            let next = writer.enqueue([Self.event(3)])
            try await writer.waitDurable(next)
        }
        #expect(log.appended.withLock { $0 } == [[Self.event(1), Self.event(2)], [Self.event(3)]])
    }

    @Test(arguments: [StoreKind.memory, .file])
    func concurrentAcquiresAreAllGrantedAndSurviveARestart(_ kind: StoreKind) async throws {
        let harness = try await Harness(Configuration(store: kind, transport: .inProcess))
        let client = harness.client
        try await withDeadline(seconds: 30) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<40 {
                    group.addTask {
                        let result = try await client.acquire(key: "k\(n)", holder: "h\(n)", ttl: .seconds(60))
                        #expect(result.ok)
                        if n % 2 == 0 { #expect(try await client.release(key: "k\(n)", holder: "h\(n)").ok) }
                    }
                }
                try await group.waitForAll()
            }
        }
        let restarted = try await harness.restart()
        let leases = try await restarted.client.leases()
        if kind == .file {
            #expect(leases.map(\.key) == (0..<40).filter { $0 % 2 == 1 }.map { "k\($0)" }.sorted())
        }
        await restarted.shutdown()
    }
}
