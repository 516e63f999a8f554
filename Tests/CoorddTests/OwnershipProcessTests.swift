import CoordClient
import CoordTestKit
import Foundation
import StreamCore
import Testing
import Transport

/// Two real `coordd` processes on one PostgreSQL database: an owner stopped with SIGSTOP past its
/// ownership TTL loses the store to the other, and once continued it gets no write through.
@Suite(.enabled(if: TestPostgres.available, Comment(rawValue: TestPostgres.skipNotice)))
struct OwnershipProcessTests {
    static func start(_ node: String, _ db: TestDatabase, ttl: String, log: String) async throws
        -> (DaemonProcess, CoordClient, WebSocketProvider)
    {
        try await PostgresFaultTests.start(db, log: log, node: node,
                                           arguments: ["--ownership-ttl", ttl, "--advertise-url", "ws://127.0.0.1:1/\(node)"])
    }

    @Test(.timeLimit(.minutes(2)))
    func anOwnerStoppedPastItsTTLWritesNothingOnceContinued() async throws {
        let db = try await TestPostgres.database("sigstop")
        defer { Task { await db.drop() } }
        let scratch = try TemporaryDirectory(prefix: "coordd-sigstop")
        defer { scratch.remove() }
        let (a, viaA, providerA) = try await Self.start("node-a", db, ttl: "1s", log: scratch.path + "/a.log")
        defer { a.stop() }
        // node-b's longer TTL keeps the store with it once taken, however loaded the machine.
        let (b, viaB, providerB) = try await Self.start("node-b", db, ttl: "10s", log: scratch.path + "/b.log")
        defer { b.stop() }

        try await viaA.produce(space: "s", segment: "g", records: [Record(sequence: 1, payload: Array("one".utf8))])
        a.signal(SIGSTOP)
        // Bounded: node-a's ownership expires on PostgreSQL's clock 1 s after its last renewal.
        let taken = await eventually(seconds: 20) {
            (try? await viaB.produce(space: "s", segment: "g", records: [Record(sequence: 2, payload: Array("two".utf8))])) != nil
        }
        #expect(taken, "node-b takes the store over; log:\n\(b.logText.suffix(2_000))")
        // Sent while node-a is stopped; it reads it once continued, still believing it owns the store.
        let stale = Task { () -> StreamsError? in
            do throws(StreamsError) {
                try await viaA.produce(space: "s", segment: "g", records: [Record(sequence: 3, payload: Array("stale".utf8))])
                return nil
            } catch {
                return error
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        a.signal(SIGCONT)
        let refused = try await withDeadline(seconds: 30) { [stale] in await stale.value.map { [$0] } ?? [] }.first
        // Refused by the epoch check, by the step-down, or — once node-a closed the store — by node-b's
        // ownership: node-a then forwards the stream to node-b's advertise URL, which nothing serves here.
        #expect(refused?.code == .transient, "the stale owner's write is refused: \(String(describing: refused))")
        #expect(["storage_error", StreamsError.storeOwnedElsewhereName, StreamsError.storeUnavailable.name].contains(refused?.name ?? ""),
                "\(String(describing: refused))")
        let last = try await viaB.peek(space: "s", segment: "g")
        #expect(last.sequence == 2 && last.payload == Array("two".utf8), "nothing of the stale owner was written")
        #expect(await eventually(seconds: 10) { a.logText.contains("store ownership given up") || a.logText.contains("no longer owns") },
                "node-a steps down; log:\n\(a.logText.suffix(2_000))")

        await providerA.close()
        await providerB.close()
        for daemon in [a, b] { daemon.signal(SIGTERM) }
        for daemon in [a, b] { _ = try await daemon.waitForExit(seconds: 30) }
    }
}
