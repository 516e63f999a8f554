import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Synchronization
import Testing
import Transport

/// Sessions and elections over a real daemon on 127.0.0.1. Heartbeats are 2 s where their timing is not what
/// a test is about: the daemon shares the test process, and a session rightly ends after a few silent
/// intervals, which a loaded machine can cause at 500 ms.
@Suite(.serialized) struct ClientSessionTests {
    @Test func aSessionsLeasesAreBoundToItAndEndWithIt() async throws {
        let daemon = try await NetworkDaemon.start()
        let client = CoordClient(provider: try daemon.provider())
        let observer = try await client.workers()
        defer { observer.close() }
        try await client.withSession(metadata: ["role": "partitioner"], heartbeatInterval: .seconds(2)) { session in
            let one = try await session.acquire(key: "p/1")
            let two = try await session.acquire(key: "p/2")
            #expect(one.holder == session.holder && two.fence > one.fence)
            // The session is a worker with its metadata, and the leases need no renewals.
            var found = false
            // Bounded: at most 50 inventories (each change makes one).
            for try await inventory in observer.prefix(50) {
                found = inventory.workers.contains { $0.workerID == session.id && $0.metadata == ["role": "partitioner"] }
                if found { break }
            }
            #expect(found)
            let other = try await client.acquire(key: "p/1", holder: "other", ttl: .seconds(5))
            #expect(!other.ok && other.holder == session.holder)
        }
        // Closing the session ended its presence, and the server released both leases.
        #expect(await eventually { (try? await client.leases(prefix: "p/").isEmpty) == true })
        await daemon.stop()
    }

    @Test func losingTheSessionCancelsEveryBodyUnderItsLeases() async throws {
        let daemon = try await NetworkDaemon.start()
        let client = CoordClient(provider: try daemon.provider())
        let session = try await client.session(heartbeatInterval: .seconds(2))
        let bodies = (0..<2).map { index in
            Task {
                try await session.withLease(key: "p/\(index)") { _ in
                    try await Task.sleep(for: .seconds(60))
                    return index
                }
            }
        }
        #expect(await eventually { (try? await client.leases(prefix: "p/").count) == 2 })
        // Another stream registers the session's worker id: the server ends the session's stream.
        let usurper = try await client.registerWorker(id: session.id, heartbeatIntervalMs: 500, presenceOnly: true)
        defer { usurper.close() }
        for body in bodies {
            do {
                _ = try await withDeadline(seconds: 10) { try await body.value }
                Issue.record("the body must be cancelled when the session is lost")
            } catch let error as CoordError {
                guard case .leaseLost(_, let message) = error else {
                    Issue.record("expected leaseLost, got \(error)")
                    continue
                }
                #expect(message.contains("worker_replaced"), "\(message)")
            }
        }
        #expect(session.hasEnded)
        #expect(await session.waitUntilLost() == .sessionLost("worker_replaced: worker_id registered by another stream"))
        #expect(await eventually { (try? await client.leases(prefix: "p/").isEmpty) == true }, "the server released them")
        await #expect(throws: CoordError.self) { _ = try await session.acquire(key: "p/9") }
        await daemon.stop()
    }

    @Test func withLeaseTakesASession() async throws {
        let daemon = try await NetworkDaemon.start()
        let client = CoordClient(provider: try daemon.provider())
        try await client.withSession(heartbeatInterval: .milliseconds(500)) { session in
            let fence = try await client.withLease(key: "job", ttl: .seconds(1), session: session) { lease in
                // Bound: well past its TTL it is still held, with no renewal sent.
                try await Task.sleep(for: .milliseconds(1_500))
                let live = try await client.leases(prefix: "job")
                #expect(live.map(\.fence) == [lease.fence] && live.first?.expiresAt == 0)
                return lease.fence
            }
            #expect(fence > 0)
            #expect(try await client.leases(prefix: "job").isEmpty, "released when the body ended")
        }
        await daemon.stop()
    }

    @Test func oneLeaderAtATimeThroughKillsOfTheLeadersConnection() async throws {
        let daemon = try await NetworkDaemon.start()
        let watcher = CoordClient(provider: try daemon.provider())
        let observed = Recorded<Leader?>()
        let observing = Task {
            for try await leader in LeaderElection(client: watcher, key: "office").observe() {
                observed.append(leader)
            }
        }
        defer { observing.cancel() }
        let elected = Recorded<Elected>()
        let providers = try (0..<3).map { _ in try daemon.provider() }
        let candidates = (0..<3).map { index in
            let provider = providers[index]
            return Task { () -> Void in
                let client = CoordClient(provider: provider)
                let session = try await client.session(heartbeatInterval: .seconds(2))
                _ = try? await LeaderElection(client: client, key: "office").campaign(candidate: "c\(index)", session: session) {
                    leadership in
                    elected.append(Elected(candidate: index, fence: leadership.fence))
                    // The leader's fenced write is accepted while it leads.
                    _ = try await client.append(space: "log", segment: "office", payloads: [Array("c\(index)".utf8)],
                                                fence: leadership.produceFence)
                    try await Task.sleep(for: .seconds(120))
                }
            }
        }
        var deposed: [Elected] = []
        for round in 0..<3 {
            #expect(await eventually(seconds: 20) { elected.values.count == round + 1 }, "round \(round)")
            let leader = try #require(elected.values.last)
            // Kill the leader's connection: its session ends, the server releases the office.
            await providers[leader.candidate].close()
            deposed.append(leader)
        }
        let fences = deposed.map(\.fence)
        #expect(fences == fences.sorted() && Set(fences).count == 3, "fences grow with every leader: \(fences)")
        #expect(Set(deposed.map(\.candidate)).count == 3, "each candidate led once")
        #expect(await eventually { observed.values.last == .some(nil) }, "the office is vacant at the end")
        // A deposed leader's fence no longer writes.
        await #expect(throws: CoordError.fenceMismatch("fence for lease \"office\" refused: no lease is held on the key")) {
            try await watcher.append(space: "log", segment: "office", payloads: [[1]], fence: Fence(key: "office", token: fences[0]))
        }
        let leaders = observed.values.compactMap { $0 }
        #expect(leaders.map(\.fence) == leaders.map(\.fence).sorted(), "an observer never sees a fence go back: \(leaders)")
        #expect(Set(leaders.map(\.fence)).isSubset(of: Set(fences)))
        #expect(try await LeaderElection(client: watcher, key: "office").leader() == nil)
        for candidate in candidates { _ = await candidate.result }
        await daemon.stop()
    }

    @Test func appendNumbersRecordsItselfUnderContention() async throws {
        let daemon = try await NetworkDaemon.start()
        let client = CoordClient(provider: try daemon.provider())
        try await withThrowingTaskGroup(of: Void.self) { group in
            for producer in 0..<3 {
                group.addTask {
                    for batch in 0..<5 {
                        try await client.append(space: "s", segment: "seg", payloads: [Array("\(producer)-\(batch)-a".utf8), [1]],
                                                limits: { var l = AppendLimits(); l.maxAttempts = 50; return l }())
                    }
                }
            }
            try await group.waitForAll()
        }
        let entries = try await client.consumeSegment(ConsumeSegment(space: "s", segment: "seg", minSequence: 1)).collect()
        #expect(entries.map(\.sequence) == Array(1...30))
        await daemon.stop()
    }

    @Test func connectOwnsItsConnectionAndCloseEndsIt() async throws {
        let daemon = try await NetworkDaemon.start()
        let url = "ws://127.0.0.1:\(daemon.port)"
        let status = try await withCoordClient(url: url) { client in try await client.status() }
        #expect(status.storeID == .defaultStore)
        let client = try CoordClient.connect(url: url)
        #expect(try await client.append(space: "s", segment: "g", payloads: [[1], [2]]).last?.lastSequence == 2)
        await client.close()
        await #expect(throws: CoordError.clientClosed) { _ = try await client.append(space: "s", segment: "g", payloads: [[3]]) }
        #expect(throws: CoordError.invalidRequest("ftp://127.0.0.1:1: the URL must start with ws:// or wss://")) {
            _ = try CoordClient.connect(url: "ftp://127.0.0.1:1")
        }
        await daemon.stop()
    }

    @Test func aTaskOnTheClientsLoopCanCloseTheClient() async throws {
        let daemon = try await NetworkDaemon.start()
        let client = try CoordClient.connect(url: "ws://127.0.0.1:\(daemon.port)")
        let operations = try await client.leaseOperations()
        let loop = try #require(operations.eventLoop)
        // Closing stops the loop the task runs on: the task goes on elsewhere instead of waiting forever.
        // Awaited with a bound, not joined: a task that never resumes must fail the test, not hang it.
        let outcome = Mutex<(granted: Bool, endedOnLoop: Bool)?>(nil)
        Task(executorPreference: loop) {
            let granted = (try? await operations.acquire(key: "k", holder: "h", ttl: .seconds(10)))?.ok ?? false
            await client.close()
            outcome.withLock { $0 = (granted, loop.inEventLoop) }
        }
        #expect(await eventually { outcome.withLock { $0 != nil } })
        let seen = outcome.withLock { $0 }
        #expect(seen?.granted == true)
        #expect(seen?.endedOnLoop == false)
        await #expect(throws: CoordError.clientClosed) { _ = try await client.append(space: "s", segment: "g", payloads: [[1]]) }
        await daemon.stop()
    }

    @Test func aClientGivenSeveralDaemonsMovesOnWhenOneCannotBeReached() async throws {
        // Nothing listens on the first: its port was bound and closed.
        let gone = try await NetworkDaemon.start()
        let gonePort = gone.port
        await gone.stop()
        let a = try await NetworkDaemon.start()
        let b = try await NetworkDaemon.start()
        let urls = [gonePort, a.port, b.port].map { "ws://127.0.0.1:\($0)" }
        var limits = WebSocketClientLimits()
        limits.backoffInitialMs = 20
        let client = try CoordClient.connect(urls: urls, limits: limits)
        #expect(try await client.status().storeID == .defaultStore, "the call reached a daemon")
        // `a` goes away: the next calls move on to `b`, round the list (its dead first entry included).
        await a.stop()
        let served = try await withDeadline(seconds: 20) {
            try await retryingTransient { try await client.status().storeID }
        }
        #expect(served == .defaultStore)
        #expect(b.manager.openNodes.contains { $0.storeID == .defaultStore }, "b served it")
        await client.close()
        await b.stop()
        #expect(throws: CoordError.invalidRequest("no server URL given")) { _ = try CoordClient.connect(urls: []) }
    }
}

/// A leader as a campaign's body saw itself.
struct Elected: Sendable {
    var candidate: Int
    var fence: UInt64
}

/// Values appended from several tasks.
final class Recorded<T: Sendable>: Sendable {
    private let items = Mutex<[T]>([])

    func append(_ item: T) { items.withLock { $0.append(item) } }

    var values: [T] { items.withLock { $0 } }
}

@Test(arguments: [
    ("fence_mismatch", CoordError.fenceMismatch("m")), ("sequence_gap", .sequenceConflict("m")),
    ("sequence_mismatch", .sequenceConflict("m")), ("limit_exceeded", .limitExceeded("m")),
    ("access_denied", .accessDenied("m")), ("store_not_found", .storeNotFound("m")),
    ("invalid_request", .invalidRequest("m")), ("storage_error", .storageError("m")), ("shutting_down", .shuttingDown),
    ("store_unavailable", .storeUnavailable("m")), ("unauthorized", .unauthorized("m")),
    ("stream_closed", .connectionFailed(name: "stream_closed", message: "m")),
    ("too_many_streams", .overloaded(name: "too_many_streams", message: "m")),
])
func wireErrorsMapToCasesOneCanSwitchOn(_ name: String, _ expected: CoordError) {
    let error = StreamsError(.permanent, name: name, message: "m")
    #expect(CoordError(error) == expected)
    #expect(CoordError(error).name == name || name == "sequence_mismatch")
}
