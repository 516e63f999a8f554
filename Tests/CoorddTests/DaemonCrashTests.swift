import CoordClient
import CoordTestKit
import Foundation
import StreamCore
import Synchronization
import Testing
import Transport

/// The real `coordd` binary killed with SIGKILL while it acknowledges produces and lease grants: after
/// a restart on the same data directory, everything it acknowledged is there and fencing tokens keep
/// rising (the durability rule: `fdatasync` before the acknowledgement).
@Suite(.serialized)
struct DaemonCrashTests {
    /// What the clients saw acknowledged before the kill.
    final class Acknowledged: Sendable {
        let sequence = Atomic<UInt64>(0)
        let grants = Mutex<[String: UInt64]>([:])
    }

    @Test(.timeLimit(.minutes(2)))
    func sigkillLosesNoAcknowledgedEntryOrLeaseGrant() async throws {
        let scratch = try TemporaryDirectory(prefix: "coordd-crash")
        defer { scratch.remove() }
        let arguments = ["--listen", "127.0.0.1:0", "--data-dir", scratch.path + "/data"]
        let first = try DaemonProcess(arguments: arguments, logPath: scratch.path + "/first.log")
        defer { first.stop() }
        let port = try DaemonShutdownTests.port(try await first.listeningAddress())
        let (client, provider) = try DaemonShutdownTests.client(port: port)

        let acknowledged = Acknowledged()
        let producer = Task {
            // Bounded: the daemon is killed long before 100,000 produces.
            for _ in 0..<100_000 {
                let next = acknowledged.sequence.load(ordering: .acquiring) + 1
                let records = (0..<10).map { Record(sequence: next + UInt64($0), payload: Array("entry-\(next + UInt64($0))".utf8)) }
                guard let statuses = try? await client.produce(space: "orders", segment: "a", records: records),
                      let last = statuses.last?.lastSequence
                else { return }
                acknowledged.sequence.store(last, ordering: .releasing)
            }
        }
        let leaser = Task {
            for n in 0..<100_000 {
                let key = "partition-\(n)"
                guard let result = try? await client.acquire(key: key, holder: "holder-\(n)", ttl: .seconds(120)),
                      result.ok, let fence = result.fence
                else { return }
                acknowledged.grants.withLock { $0[key] = fence }
            }
        }
        try #require(await eventually(seconds: 60) {
            acknowledged.sequence.load(ordering: .acquiring) >= 30 && acknowledged.grants.withLock { $0.count } >= 10
        })

        first.signal(SIGKILL)
        let exit = try await first.waitForExit(seconds: 15)
        #expect(exit.reason == .uncaughtSignal)
        await producer.value
        await leaser.value
        await provider.close()
        let ackedSequence = acknowledged.sequence.load(ordering: .acquiring)
        let grants = acknowledged.grants.withLock { $0 }

        let second = try DaemonProcess(arguments: arguments, logPath: scratch.path + "/second.log")
        defer { second.stop() }
        let (again, againProvider) = try DaemonShutdownTests.client(port: try DaemonShutdownTests.port(try await second.listeningAddress()))
        var sequences: [UInt64] = []
        for try await entry in again.consumeSegment(ConsumeSegment(space: "orders", segment: "a")) {
            #expect(entry.payload == Array("entry-\(entry.sequence)".utf8))
            sequences.append(entry.sequence)
        }
        #expect(sequences.count >= Int(ackedSequence), "acknowledged \(ackedSequence), found \(sequences.count) after SIGKILL")
        #expect(sequences == (0..<sequences.count).map { UInt64($0) + 1 }, "contiguous from 1")

        let held = Dictionary(uniqueKeysWithValues: try await again.leases(prefix: "partition-").map { ($0.key, $0) })
        for (key, fence) in grants {
            #expect(held[key]?.fence == fence, "lease \(key) granted with token \(fence) before SIGKILL: \(String(describing: held[key]))")
        }
        // The grants still hold against another holder, and a new grant's token is above every earlier one.
        let someKey = try #require(grants.keys.min())
        #expect(try await !again.acquire(key: someKey, holder: "intruder", ttl: .seconds(5)).ok)
        let fresh = try await again.acquire(key: "after-the-crash", holder: "h", ttl: .seconds(5))
        #expect(fresh.ok && (fresh.fence ?? 0) > (grants.values.max() ?? 0))
        await againProvider.close()
        second.signal(SIGTERM)
        _ = try await second.waitForExit(seconds: 15)
    }
}
