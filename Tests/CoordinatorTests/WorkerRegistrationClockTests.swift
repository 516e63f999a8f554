@testable import CoordClient
import CoordTestKit
import StreamCore
import Testing
@testable import Transport

/// A worker registration's renewals and its silence check run on the injected clock: a manual clock
/// drives them with no real waiting.
@Suite struct WorkerRegistrationClockTests {
    let id = WireUUID.random()

    /// The next message the server end reads, as a Presence.
    func presence(from server: InProcessStream) async throws -> Presence {
        let bytes = try #require(try await withDeadline { try await server.receive() })
        return try Envelope.decode(Presence.self, from: bytes)
    }

    /// Moves `clock` by `ms` and waits until the renewer has done what that woke it to do and sleeps again.
    func advance(_ clock: ManualMonotonicClock, byMs ms: Int64) async throws {
        clock.advance(byMs: ms)
        try await withDeadline { await clock.waitForSleepers(1) }
    }

    @Test func oneRenewalGoesOutPerIntervalOfTheClockAndNoneBefore() async throws {
        let clock = ManualMonotonicClock(startMs: 0)
        let (client, server) = InProcessStream.pair()
        let registration = WorkerRegistration(workerID: id, stream: client, intervalMs: 1_000, clock: clock)
        #expect(try await presence(from: server).workerID == id, "the first renewal goes at once")
        try await withDeadline { await clock.waitForSleepers(1) }
        clock.advance(byMs: 999)
        // The renewer's sleep is still parked on the clock, so it cannot have sent anything.
        #expect(clock.sleeperCount == 1 && server.arrivals == 1)
        try await advance(clock, byMs: 1)
        #expect(try await presence(from: server).workerID == id)
        try await advance(clock, byMs: 1_000)
        #expect(try await presence(from: server).workerID == id)
        #expect(server.arrivals == 3)
        registration.close()
    }

    @Test func silenceForThreeIntervalsEndsTheRegistrationAndAMessageFromTheServerPutsItOff() async throws {
        let clock = ManualMonotonicClock(startMs: 0)
        let (client, server) = InProcessStream.pair()
        let registration = WorkerRegistration(workerID: id, stream: client, intervalMs: 1_000, clock: clock)
        _ = try await presence(from: server)
        try await withDeadline { await clock.waitForSleepers(1) }
        try await advance(clock, byMs: 1_000)
        _ = try await presence(from: server)
        // The server speaks at 1 000 ms; once the worker has read it (its reader is parked again),
        // the silence counts from there.
        try await server.sendEnveloped(Presence(workerID: id, heartbeat: true, timestamp: 1))
        #expect(await eventually { client.arrivals == 1 && client.isReceiving })
        // The renewer notes the arrival at its 2 000 ms turn: renewals at 2 000 to 5 000 ms, with at
        // most 3 000 ms of silence since then (without the message, it would end at 4 000 ms).
        for _ in 0..<4 {
            try await advance(clock, byMs: 1_000)
            _ = try await presence(from: server)
        }
        // At 6 000 ms nothing has arrived for 4 000 ms: the registration ends instead of renewing.
        clock.advance(byMs: 1_000)
        let ended = try await withDeadline { await registration.waitUntilEnded() }
        #expect(ended == .streamClosed("worker heartbeat lost after 4000 ms"))
        #expect(try await withDeadline { try await server.receive() } == nil, "no renewal went out")
    }
}
