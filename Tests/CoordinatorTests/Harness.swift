import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Transport

/// The transports every integration test runs over.
enum TransportKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case inProcess
    /// A WebSocket server on 127.0.0.1 (port 0) with the daemon's acceptor, and the WebSocket provider.
    case webSocket
    /// The same over TLS with the test certificates.
    case webSocketTLS

    var description: String { rawValue }
}

/// One test configuration: a store kind under a transport (streamkit's `configurations()` loop, §8).
///
/// Suites that loop over `Configuration.all` are `.serialized`: each test then runs its six configurations
/// one after another, so the few hundred integration cases do not all start at once and starve each other's
/// deadlines on a 2-core machine; suites still run beside each other.
struct Configuration: Sendable, CustomStringConvertible {
    var store: StoreKind
    var transport: TransportKind

    /// Every transport over the memory and file stores, and PostgreSQL over the in-process transport: the
    /// transport and the storage are separate layers, and the file store already crosses every transport
    /// with a durable store, so PostgreSQL across the network transports would repeat those runs at the
    /// cost of a database each (the store contract suite covers PostgreSQL's own behaviour).
    static let all: [Configuration] = StoreKind.allCases.flatMap { store in
        TransportKind.allCases
            .filter { store != .postgres || $0 == .inProcess }
            .map { Configuration(store: store, transport: $0) }
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
    let configuration: Configuration
    let node: NodeConfiguration
    /// The server, for the WebSocket transports.
    let server: WebSocketServer?
    /// The provider when it is a WebSocket one.
    let network: WebSocketProvider?

    init(_ configuration: Configuration, node: NodeConfiguration = NodeConfiguration(),
         limits: StoreLimits = StoreLimits()) async throws {
        let clock = ManualWallClock()
        let fixture = try StoreFixture(configuration.store, limits: limits, clock: clock)
        try await self.init(configuration, node: node, fixture: fixture, store: .random())
    }

    /// A daemon over `store` in `fixture`'s stores (what an earlier daemon, or a test, wrote there).
    init(_ configuration: Configuration, node: NodeConfiguration = NodeConfiguration(), fixture: StoreFixture,
         store: WireUUID) async throws {
        let clock = fixture.clock
        self.configuration = configuration
        self.node = node
        var node = node
        node.wallClock = clock
        manager = NodeManager(configuration: node) { id throws(StreamsError) in
            do {
                return try await fixture.open(name: id.description)
            } catch {
                throw .storeUnavailable
            }
        }
        switch configuration.transport {
        case .inProcess:
            provider = manager.inProcessProvider()
            server = nil
            network = nil
        case .webSocket, .webSocketTLS:
            let secure = configuration.transport == .webSocketTLS
            let server = try await WebSocketServer.start(
                configuration: WebSocketServerConfiguration(
                    host: "127.0.0.1", port: 0, tls: secure ? TestNetwork.serverTLS : nil),
                group: TestNetwork.group,
                acceptor: DaemonAcceptor(manager: manager, verifier: nil, allowAnonymous: true))
            let network = try WebSocketProvider(
                url: "\(secure ? "wss" : "ws")://127.0.0.1:\(server.port)", tls: secure ? TestNetwork.clientTLS : nil,
                group: TestNetwork.group)
            provider = network
            self.server = server
            self.network = network
        }
        self.store = store
        if configuration.transport != .inProcess {
            // In process, a stream's store is open before `callStream` returns; over the network the
            // server opens it after. Opening it here keeps a test's first deadline about the operation.
            _ = try await manager.node(for: store)
        }
        self.fixture = fixture
        wallClock = clock
    }

    /// Closes the daemon's nodes (flushing the store) and opens a new daemon over the same store files.
    func restart() async throws -> Harness {
        await network?.close()
        await server?.shutdown(graceMs: 2_000)
        await manager.close()
        return try await Harness(configuration, node: node, fixture: fixture, store: store)
    }

    var client: CoordClient { CoordClient(provider: provider, store: store) }

    /// A client of another store on the same daemon.
    func client(for store: WireUUID) -> CoordClient { CoordClient(provider: provider, store: store) }

    func shutdown() async {
        await network?.close()
        await server?.shutdown(graceMs: 2_000)
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
