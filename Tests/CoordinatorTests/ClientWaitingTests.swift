import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Synchronization
import Testing
@testable import Transport

/// A WebSocket provider that counts the requests it opens, by discriminator, so a test can tell a wait
/// woken by the server from one that polls.
final class CountingProvider: ReconnectingStreamProvider {
    let base: WebSocketProvider
    private let counts = Mutex<[String: Int]>([:])
    private let latestWatch = Mutex<(any BidiStream)?>(nil)

    init(_ base: WebSocketProvider) { self.base = base }

    var connectionGeneration: UInt64 { base.connectionGeneration }
    func onReconnect(_ handler: @escaping @Sendable (UInt64) -> Void) { base.onReconnect(handler) }
    func reconnections() -> AsyncStream<UInt64> { base.reconnections() }

    func callStream(store: WireUUID, request: [UInt8]) async throws(StreamsError) -> any BidiStream {
        let type = (try? Envelope.decode(request)).map { Swift.type(of: $0).discriminator } ?? "?"
        counts.withLock { $0[type, default: 0] += 1 }
        let stream = try await base.callStream(store: store, request: request)
        if type == LeaseWatch.discriminator { latestWatch.withLock { $0 = stream } }
        return stream
    }

    /// True while a receive on the latest watch opened is parked: its owner waits for the server.
    var isReadingLatestWatch: Bool { (latestWatch.withLock { $0 } as? MuxStream)?.isReceiving == true }

    func count(_ type: any EnvelopedMessage.Type) -> Int { counts.withLock { $0[type.discriminator] ?? 0 } }
}

/// Waiting for a lease over a real daemon on 127.0.0.1: the server wakes waiters, nothing polls.
@Suite(.serialized) struct ClientWaitingTests {
    @Test func aWaiterIsWokenByTheReleaseWithoutPolling() async throws {
        let daemon = try await NetworkDaemon.start()
        let holder = CoordClient(provider: try daemon.provider())
        let counting = CountingProvider(try daemon.provider())
        let waiter = CoordClient(provider: counting)
        let held = try await holder.acquire(key: "job", holder: "a", ttl: .seconds(60))
        #expect(held.ok)

        let waiting = Task { try await waiter.acquire(key: "job", holder: "b", ttl: .seconds(30), waitingUpTo: .seconds(60)) }
        // The waiter has watched the key, been refused once, and is parked reading its watch: it waits
        // for the server.
        let parked = await eventually {
            counting.count(LeaseAcquire.self) == 1 && counting.count(LeaseWatch.self) == 1 && counting.isReadingLatestWatch
        }
        let seen = "acquires \(counting.count(LeaseAcquire.self)), watches \(counting.count(LeaseWatch.self)), "
            + "reading its watch: \(counting.isReadingLatestWatch)"
        #expect(parked, "\(seen)")
        // Time passes with the key held: a waiter that also polled on a timer would ask again. No event
        // marks a timer that never fires, so this stays a short real wait; it cannot fail a correct
        // waiter, which sends nothing while the key is held however long the wait lasts (a loaded
        // machine only gives a poller less time to show itself).
        try await Task.sleep(for: .milliseconds(300))
        #expect(counting.count(LeaseAcquire.self) == 1, "nothing is sent while the key stays held")

        #expect(try await holder.release(key: "job", holder: "a").ok)
        let granted = try await withDeadline(seconds: 10) { try await waiting.value }
        #expect(granted.ok && granted.holder == "b" && granted.fence.map { $0 > held.fence! } == true)
        #expect(counting.count(LeaseAcquire.self) == 2, "one refused attempt, one after the release")
        await daemon.stop()
    }

    @Test func aWaiterIsWokenByTheExpiry() async throws {
        let daemon = try await NetworkDaemon.start()
        let client = CoordClient(provider: try daemon.provider())
        let held = try await client.acquire(key: "job", holder: "a", ttl: .milliseconds(200))
        let granted = try await withDeadline(seconds: 10) {
            try await client.acquire(key: "job", holder: "b", ttl: .seconds(30), waitingUpTo: .seconds(20))
        }
        #expect(granted.holder == "b" && granted.fence == held.fence.map { $0 + 1 })
        await daemon.stop()
    }

    @Test func aWaitThatRunsOutSaysWhoHoldsTheKey() async throws {
        let daemon = try await NetworkDaemon.start()
        let client = CoordClient(provider: try daemon.provider())
        let held = try await client.acquire(key: "job", holder: "a", ttl: .seconds(60))
        await #expect(throws: CoordError.waitTimedOut(key: "job", holder: "a", fence: held.fence)) {
            _ = try await client.acquire(key: "job", holder: "b", ttl: .seconds(30), waitingUpTo: .milliseconds(150))
        }
        await #expect(throws: CoordError.invalidRequest("lease key must not be empty")) {
            _ = try await client.acquire(key: "", holder: "b", ttl: .seconds(30), waitingUpTo: .seconds(1))
        }
        await daemon.stop()
    }

    @Test func aCancelledWaitThrowsCancellationError() async throws {
        let daemon = try await NetworkDaemon.start()
        let counting = CountingProvider(try daemon.provider())
        let client = CoordClient(provider: counting)
        _ = try await client.acquire(key: "job", holder: "a", ttl: .seconds(60))
        let waiting = Task { try await client.withLease(key: "job", ttl: .seconds(5), wait: .seconds(60)) { _ in 0 } }
        // Cancelled while it waits: it has been refused once and watches the key.
        #expect(await eventually { counting.count(LeaseAcquire.self) == 2 && counting.count(LeaseWatch.self) == 1 })
        waiting.cancel()
        await #expect(throws: CancellationError.self) { _ = try await withDeadline(seconds: 10) { try await waiting.value } }
        await daemon.stop()
    }

    @Test func cancellingWithLeaseReleasesTheLease() async throws {
        let daemon = try await NetworkDaemon.start()
        let client = CoordClient(provider: try daemon.provider())
        for session in [false, true] {
            let owner = session ? try await client.session(heartbeatInterval: .milliseconds(500)) : nil
            let holding = Task {
                try await client.withLease(key: "job", ttl: .seconds(30), session: owner) { _ in
                    try await Task.sleep(for: .seconds(60))
                    return 0
                }
            }
            #expect(await eventually { (try? await client.leases(prefix: "job").count) == 1 })
            holding.cancel()
            await #expect(throws: CancellationError.self) { _ = try await withDeadline(seconds: 10) { try await holding.value } }
            #expect(try await client.leases(prefix: "job").isEmpty, "released on the way out (session: \(session))")
            owner?.close()
        }
        await daemon.stop()
    }

    @Test func manyWaitersAreServedOneAtATimeWithGrowingFences() async throws {
        let daemon = try await NetworkDaemon.start()
        let client = CoordClient(provider: try daemon.provider())
        let inside = Recorded<Int>()
        let fences = try await withDeadline(seconds: 30) {
            try await withThrowingTaskGroup(of: UInt64.self) { group in
                for index in 0..<5 {
                    group.addTask {
                        try await client.withLease(key: "job", ttl: .seconds(10), holder: "w\(index)", wait: .seconds(20)) { lease in
                            inside.append(1)
                            #expect(inside.values.reduce(0, +) == 1, "one holder at a time")
                            // The holder's work, not a wait for an event: it keeps the lease held a
                            // while so a second, wrongly granted holder would overlap it. No length can
                            // fail a correct server, which never has two holders.
                            try await Task.sleep(for: .milliseconds(20))
                            inside.append(-1)
                            return lease.fence
                        }
                    }
                }
                return try await group.reduce(into: [UInt64]()) { $0.append($1) }
            }
        }
        #expect(Set(fences).count == 5, "every waiter got the key, each with its own fence: \(fences)")
        await daemon.stop()
    }

    @Test func aWaitOutlivesADaemonRestart() async throws {
        let daemon = try await NetworkDaemon.start()
        let port = daemon.port
        let counting = CountingProvider(try daemon.provider())
        let client = CoordClient(provider: counting)
        let holder = CoordClient(provider: try daemon.provider())
        #expect(try await holder.acquire(key: "job", holder: "a", ttl: .seconds(60)).ok)
        let waiting = Task { try await client.acquire(key: "job", holder: "b", ttl: .seconds(30), waitingUpTo: .seconds(60)) }
        #expect(await eventually { counting.count(LeaseAcquire.self) == 1 })
        await daemon.stop()
        // A new daemon on the same port with fresh memory stores: the key is free there.
        let restarted = try await NetworkDaemon.start(port: port)
        let granted = try await withDeadline(seconds: 30) { try await waiting.value }
        #expect(granted.ok && granted.holder == "b")
        // The watch was opened again after the reconnect (more than once if a reopen met the draining daemon),
        // and its first state there, free, led to the acquire that won: a handful of requests, not a poll.
        #expect(counting.count(LeaseWatch.self) >= 2 && counting.count(LeaseAcquire.self) <= 5,
                "\(counting.count(LeaseWatch.self)) watches, \(counting.count(LeaseAcquire.self)) acquires")
        await restarted.stop()
    }

    @Test func aWatchReportsEveryChangeOfHolder() async throws {
        let daemon = try await NetworkDaemon.start()
        let client = CoordClient(provider: try daemon.provider())
        var events = client.watchLease(key: "k").makeAsyncIterator()
        let first = try await events.next()
        #expect(first == LeaseWatchEvent(key: "k", held: false, cause: .current))
        let granted = try await client.acquire(key: "k", holder: "a", ttl: .seconds(30))
        let held = try #require(try await events.next())
        #expect(held.held && held.cause == .granted && held.holder == "a" && held.fence == granted.fence && held.ttlMs == 30_000)
        #expect(held.expiresAt != nil && granted.expiresAt != nil)
        _ = try await client.release(key: "k", holder: "a")
        #expect(try await events.next() == LeaseWatchEvent(key: "k", held: false, cause: .released, holder: "a", fence: granted.fence))
        await daemon.stop()
    }
}
