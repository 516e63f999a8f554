@testable import Coordinator
import CoordTestKit
import LeaseEngine
import StreamCore
import Synchronization
import Testing

/// The lease log: events in engine order, grouped by the log's own group commit.
@Suite struct LeaseLogTests {
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
