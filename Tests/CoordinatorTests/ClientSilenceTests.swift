import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Synchronization
import Testing
import Transport

/// A reconnecting provider whose first stream is accepted and then never answered (a stalled connection
/// or server); every later stream goes to a real node.
final class FirstStreamSilentProvider: ReconnectingStreamProvider {
    private let silent = InProcessProvider { _, stream throws(StreamsError) in
        Task { while (try? await stream.receive()) != nil {} }
    }
    private let node: any StreamProvider
    private let calls = Mutex(0)

    init(node: any StreamProvider) { self.node = node }

    var connectionGeneration: UInt64 { 1 }
    func onReconnect(_ handler: @escaping @Sendable (UInt64) -> Void) {}
    func reconnections() -> AsyncStream<UInt64> { AsyncStream { _ in } }

    /// How many streams were opened.
    var callCount: Int { calls.withLock { $0 } }

    func callStream(store: WireUUID, request: [UInt8]) async throws(StreamsError) -> any BidiStream {
        let first = calls.withLock { count -> Bool in
            count += 1
            return count == 1
        }
        return try await (first ? silent : node).callStream(store: store, request: request)
    }
}

/// A registered worker over a reconnecting provider treats heartbeat silence as a lost stream: it
/// registers again rather than ending.
@Suite struct ClientSilenceTests {
    @Test func aSilentStreamIsReplacedAndTheWorkerRegistersAgain() async throws {
        let manager = NodeManager { _ throws(StreamsError) in MemoryStore() }
        let store = WireUUID.random()
        let local = CoordClient(provider: manager.inProcessProvider(), store: store)
        let provider = FirstStreamSilentProvider(node: manager.inProcessProvider())
        let client = CoordClient(provider: provider, store: store)
        let changes = Mutex<[ConnectionChange]>([])
        let registration = try await client.registerWorker(
            id: .random(), heartbeatIntervalMs: 100, connectionChanges: { change in changes.withLock { $0.append(change) } })

        #expect(await eventually(seconds: 20) { (try? await local.status().workers) == 1 }, "registered on a second stream")
        #expect(provider.callCount == 2)
        #expect(changes.withLock { $0 }.first.map { if case .lost(let error) = $0 { error.message.hasPrefix("worker heartbeat lost") } else { false } } == true)
        #expect(await eventually(seconds: 20) { changes.withLock { $0.contains(.restored) } })

        registration.close()
        #expect(await registration.waitUntilEnded() == nil)
        #expect(await eventually(seconds: 5) { (try? await local.status().workers) == 0 })
        await manager.close()
    }
}
