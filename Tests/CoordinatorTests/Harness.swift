import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Transport

/// The transports every integration test runs over.
enum TransportKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case inProcess

    var description: String { rawValue }
}

/// One test configuration: a store kind under a transport (streamkit's `configurations()` loop, §8).
struct Configuration: Sendable, CustomStringConvertible {
    var store: StoreKind
    var transport: TransportKind

    static let all: [Configuration] = StoreKind.allCases.flatMap { store in
        TransportKind.allCases.map { Configuration(store: store, transport: $0) }
    }

    var description: String { "\(store)/\(transport)" }
}

/// A node manager over fresh stores of one kind, and a client talking to it over one transport.
struct Harness: Sendable {
    let manager: NodeManager
    let provider: any StreamProvider
    let store: WireUUID
    let fixture: StoreFixture
    let wallClock: ManualWallClock

    init(_ configuration: Configuration, node: NodeConfiguration = NodeConfiguration(),
         limits: StoreLimits = StoreLimits()) async throws {
        let clock = ManualWallClock()
        let fixture = try StoreFixture(configuration.store, limits: limits, clock: clock)
        var node = node
        node.wallClock = clock
        manager = NodeManager(configuration: node) { _ throws(StreamsError) in
            do {
                return try await fixture.open()
            } catch {
                throw .storeUnavailable
            }
        }
        provider = manager.inProcessProvider()
        store = .random()
        self.fixture = fixture
        wallClock = clock
    }

    var client: CoordClient { CoordClient(provider: provider, store: store) }

    /// A client of another store on the same daemon.
    func client(for store: WireUUID) -> CoordClient { CoordClient(provider: provider, store: store) }

    func shutdown() async {
        await manager.close()
        fixture.remove()
    }
}

/// Records 1...n (or from `first`) with small payloads.
func makeRecords(_ count: Int, from first: UInt64 = 1, size: Int = 8) -> [Record] {
    (0..<UInt64(count)).map { i in
        Record(sequence: first + i, payload: [UInt8](repeating: UInt8(truncatingIfNeeded: first + i), count: size))
    }
}

extension MessageSequence {
    /// Collects every element (bounded by the stream itself ending).
    func collect() async throws(StreamsError) -> [Element] {
        var items: [Element] = []
        for try await item in self { items.append(item) }
        return items
    }
}
