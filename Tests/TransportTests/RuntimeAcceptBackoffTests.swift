import Glibc
import StreamCore
import Synchronization
import Testing
@testable import Transport

/// Running out of descriptors must pause accepting, not spin the loop.
///
/// The live test makes `accept4` fail with `EMFILE` through the listener's accept function rather
/// than by lowering `RLIMIT_NOFILE` or filling the descriptor table: both are process-wide, and
/// Swift Testing runs the other suites of this process in parallel, which would then fail at random.
/// The listener sees exactly what the real call reports (an `IOError` with `EMFILE` from ``Posix``),
/// and the kernel keeps the connection in the backlog, as it does when descriptors truly run out.
@Suite struct RuntimeAcceptBackoffTests {
    @Test func delaysDoubleFromTheInitialToTheMaximumAndResetAfterSuccess() {
        var backoff = AcceptBackoff(initialMs: 50, maxMs: 1_000)
        let delays = (0..<7).map { _ in backoff.nextDelayMs() }
        #expect(delays == [50, 100, 200, 400, 800, 1_000, 1_000])
        backoff.reset()
        #expect(backoff.nextDelayMs() == 50)
    }

    @Test func exhaustedDescriptorsPauseAcceptingWithoutSpinningAndAcceptingResumesWhenFreed() async throws {
        let group = try EventLoopGroup(loopCount: 1)
        defer { group.shutdownGracefully(graceMs: 0) }
        let exhausted = Atomic<Bool>(true)
        let attempts = Atomic<Int>(0)
        let accept: TCPListener.AcceptFunction = { fd throws(IOError) in
            attempts.add(1, ordering: .relaxed)
            if exhausted.load(ordering: .relaxed) { throw IOError(errno: EMFILE, call: "accept4") }
            return try Socket.accept(fd)
        }
        let listener = try await TCPListener.bind(host: "127.0.0.1", port: 0, group: group, accept: accept) { connection in
            RecordingHandler(connection, probe: ConnectionProbe(), echoes: true)
        }

        // The handshake completes in the kernel's backlog; the listening socket stays readable.
        let started = ContinuousClock.now
        let client = try BlockingSocket(connectingTo: listener.localAddress)
        // Four failed attempts, each followed by a pause of 50, 100 and 200 ms before the next: a
        // listener that pauses cannot get there sooner than 350 ms after the first attempt (timers never
        // fire early; a loaded machine only makes it later), while a spinning one gets there at once.
        #expect(await RuntimeTests.waitUntil { listener.acceptBackoffCount >= 4 })
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .milliseconds(300), "four accept pauses after \(elapsed)")
        // Attempts read before pauses: every failed attempt was followed by its pause (the loop runs
        // both on its one thread), so at most the latest attempt is still without one.
        let tried = attempts.load(ordering: .relaxed)
        let pauses = listener.acceptBackoffCount
        #expect(tried <= pauses + 1, "\(tried) accept attempts, \(pauses) pauses")
        #expect(listener.acceptedCount == 0)

        exhausted.store(false, ordering: .relaxed)
        try client.send(Array("back".utf8))
        #expect(try client.receive(exactly: 4) == Array("back".utf8))
        #expect(listener.acceptedCount == 1)
        await listener.stop()
    }
}
