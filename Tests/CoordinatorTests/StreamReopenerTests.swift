@testable import CoordClient
import CoordTestKit
import StreamCore
import Synchronization
import Testing
import Transport

/// A provider whose reconnects the test announces; it opens no streams of its own.
private final class AnnouncedReconnects: ReconnectingStreamProvider {
    private let listeners = Mutex<[AsyncStream<UInt64>.Continuation]>([])
    private let generation = Atomic<UInt64>(1)

    func callStream(store: WireUUID, request: [UInt8]) async throws(StreamsError) -> any BidiStream {
        throw .shuttingDown
    }

    var connectionGeneration: UInt64 { generation.load(ordering: .acquiring) }

    func onReconnect(_ handler: @escaping @Sendable (UInt64) -> Void) {}

    func reconnections() -> AsyncStream<UInt64> {
        let (stream, continuation) = AsyncStream<UInt64>.makeStream(bufferingPolicy: .bufferingNewest(1))
        listeners.withLock { $0.append(continuation) }
        return stream
    }

    /// Announces a new connection to every listener.
    func reconnect() {
        let next = generation.add(1, ordering: .acquiringAndReleasing).newValue
        for listener in listeners.withLock({ $0 }) { listener.yield(next) }
    }
}

/// Attempts made so far, shared with the opening closure.
private final class Attempts: Sendable {
    private let made = Atomic<Int>(0)

    /// Counts one more attempt and returns the total.
    func next() -> Int { made.add(1, ordering: .acquiringAndReleasing).newValue }

    var count: Int { made.load(ordering: .acquiring) }
}

/// The reopen loop's backoff waits on the injected clock, and a new connection cuts it short.
@Suite struct StreamReopenerTests {
    @Test func theBackoffWaitsOnTheClockAndANewConnectionCutsItShort() async throws {
        let clock = ManualMonotonicClock(startMs: 0)
        let provider = AnnouncedReconnects()
        let limits = ReopenLimits(initialDelayMs: 1_000, maxDelayMs: 10_000)
        let reopener = try #require(StreamReopener(provider: provider, limits: limits, clock: clock))
        let attempts = Attempts()
        let opened = InProcessStream.pair().client
        let reopening = Task {
            await reopener.reopen(isAbandoned: { false }) { () throws(StreamsError) -> any BidiStream in
                // Three transient failures, then a stream.
                guard attempts.next() > 3 else { throw .shuttingDown }
                return opened
            }
        }
        @Sendable func count() -> Int { attempts.count }

        // The first attempt failed; the backoff (1 s ± 20 %) sleeps on the clock.
        try await withDeadline { await clock.waitForSleepers(1) }
        #expect(count() == 1)
        clock.advance(byMs: 799)
        #expect(clock.sleeperCount == 1 && count() == 1, "short of the shortest first backoff, nothing is tried")
        clock.advance(byMs: 401)
        #expect(await eventually { count() == 2 })
        // The second backoff (2 s ± 20 %): a new connection ends it at once, with no time passing.
        try await withDeadline { await clock.waitForSleepers(1) }
        provider.reconnect()
        #expect(await eventually { count() == 3 })
        // The third (4 s ± 20 %) runs out on the clock, and the fourth attempt opens the stream.
        try await withDeadline { await clock.waitForSleepers(1) }
        clock.advance(byMs: 4_800)
        let result = try await withDeadline { await reopening.value }
        #expect((try? result.get()) === opened && count() == 4)
        #expect(clock.nowMs() == 6_000, "time passed only when the test moved the clock")
    }

    @Test func aPermanentErrorEndsTheAttemptsWithoutWaiting() async throws {
        let clock = ManualMonotonicClock(startMs: 0)
        let reopener = try #require(StreamReopener(provider: AnnouncedReconnects(), clock: clock))
        let result = try await withDeadline {
            await reopener.reopen(isAbandoned: { false }) { () throws(StreamsError) -> any BidiStream in
                throw .sequenceMismatch
            }
        }
        #expect(throws: StreamsError.sequenceMismatch) { try result.get() }
        #expect(clock.sleeperCount == 0)
    }
}
