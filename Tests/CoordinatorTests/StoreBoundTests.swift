import CoordClient
import CoordTestKit
import Foundation
import StreamCore
import Testing
import Transport

@testable import Coordinator

/// A node manager over file stores in a temporary directory, on a manual monotonic clock, behind the
/// daemon's acceptor on 127.0.0.1, with a client connection to it.
struct StoreBoundDaemon: Sendable {
    let directory: TemporaryDirectory
    let clock: ManualMonotonicClock
    let lines: LineCollector
    let manager: NodeManager
    let network: NetworkDaemon
    let provider: WebSocketProvider

    static func start(maxOpenStores: Int, idleCloseMs: Int64 = 60_000, catalog: ((String) -> any StoreCatalog)? = nil)
        async throws -> StoreBoundDaemon
    {
        let directory = try TemporaryDirectory(prefix: "coordd-stores")
        let clock = ManualMonotonicClock(startMs: 0)
        let lines = LineCollector()
        var configuration = NodeConfiguration()
        configuration.monotonicClock = clock
        configuration.limits.maxOpenStores = maxOpenStores
        configuration.limits.storeIdleCloseMs = idleCloseMs
        configuration.logger = Logger(level: .debug, sink: lines.sink)
        let stores = catalog?(directory.path) ?? FileStoreCatalog(root: directory.path)
        let manager = NodeManager(configuration: configuration, catalog: stores)
        let network = try await NetworkDaemon.start(manager: manager)
        return StoreBoundDaemon(directory: directory, clock: clock, lines: lines, manager: manager, network: network,
                                provider: try network.provider())
    }

    func client(_ store: WireUUID) -> CoordClient { CoordClient(provider: provider, store: store) }

    /// The stores open now.
    var open: Set<WireUUID> { Set(manager.openNodes.map(\.storeID)) }

    /// True once the server has seen the end of every stream of `store` it served.
    func settled(_ store: WireUUID, uses: Int = 0) async -> Bool {
        await eventually { manager.useCount(of: store) == uses }
    }

    func logged(_ message: String, _ store: WireUUID) -> Bool {
        lines.all.contains { $0.contains("msg=\"\(message)\"") && $0.contains("store=\(store)") }
    }

    func stop() async {
        await provider.close()
        await network.stop()
        directory.remove()
    }
}

/// Open stores are a bounded resource (`--max-open-stores`, `--store-idle-close`).
@Suite(.serialized) struct StoreBoundTests {
    @Test func aStorePastTheLimitIsRefusedWhileEveryOpenStoreIsBusyAndTakesTheLeastRecentlyUsedIdleOnesPlace() async throws {
        let daemon = try await StoreBoundDaemon.start(maxOpenStores: 3)
        let (a, b, c, d) = (WireUUID.random(), WireUUID.random(), WireUUID.random(), WireUUID.random())
        _ = try await daemon.manager.node(for: .defaultStore)
        try await daemon.client(a).produce(space: "s", segment: "g", records: makeRecords(2))
        let busyA = try await daemon.client(a).open(SubscribeToSegmentStatus(space: "s", segment: "*"))
        let busyB = try await daemon.client(b).open(SubscribeToSegmentStatus(space: "s", segment: "*"))
        #expect(await daemon.settled(a, uses: 1))
        #expect(await daemon.settled(b, uses: 1))

        // Three open (the default store counts) and A and B serve a stream each: C is refused at once.
        daemon.clock.advance(byMs: 10)
        let refused = await StreamsError.of { _ = try await withDeadline { try await daemon.client(c).spaces() } }
        #expect(refused == .storeUnavailable(because: "the open stores limit (3) is reached and every open store is in use"))
        #expect(refused?.code == .transient)
        #expect(daemon.logged("store refused", c))
        #expect(!FileManager.default.fileExists(atPath: daemon.directory.path + "/\(c)"), "nothing is made for a refused store")

        // A's stream ends at t=20: A is idle, and C takes its place at t=30.
        daemon.clock.advance(byMs: 10)
        busyA.close(error: nil)
        #expect(await daemon.settled(a))
        daemon.clock.advance(byMs: 10)
        #expect(try await daemon.client(c).spaces().isEmpty)
        #expect(daemon.open == [.defaultStore, b, c])
        #expect(daemon.lines.all.contains { $0.contains("msg=\"store closed\" store=\(a) reason=evicted") })
        #expect(await daemon.settled(c))

        // B idles from t=40, C from t=30: reading A again closes C, the least recently used; the default
        // store, idle since the start, stays. A's entries survived its close.
        daemon.clock.advance(byMs: 10)
        busyB.close(error: nil)
        #expect(await daemon.settled(b))
        daemon.clock.advance(byMs: 10)
        let entries = try await daemon.client(a).consumeSegment(ConsumeSegment(space: "s", segment: "g")).collect()
        #expect(entries.map(\.sequence) == [1, 2])
        #expect(daemon.open == [.defaultStore, b, a])
        #expect(daemon.manager.reservedStores == 3)
        #expect(await daemon.settled(a))
        _ = try await daemon.client(d).status()
        #expect(daemon.open == [.defaultStore, a, d], "B, idle since t=40, before A, used at t=50")
        await daemon.stop()
    }

    @Test func anIdleStoreClosesAfterTheIdleTimeButNeverWhileItServesAStreamAWorkerOrAnObserver() async throws {
        let daemon = try await StoreBoundDaemon.start(maxOpenStores: 10, idleCloseMs: 60_000)
        let (worker, observer, subscribed, quiet, leased) = (WireUUID.random(), WireUUID.random(), WireUUID.random(),
                                                              WireUUID.random(), WireUUID.random())
        _ = try await daemon.manager.node(for: .defaultStore)
        let presence = try await daemon.client(worker).open(SubscribeWorkers(workerID: .random(), heartbeatIntervalSeconds: 30))
        let watching = try await daemon.client(observer).open(SubscribeWorkers(workerID: nil))
        let subscription = try await daemon.client(subscribed).open(SubscribeToSegmentStatus(space: "s", segment: "*"))
        try await daemon.client(quiet).produce(space: "s", segment: "g", records: makeRecords(1))
        let lease = try await daemon.client(leased).acquire(key: "k", holder: "h", ttl: .seconds(600))
        let fence = try #require(lease.fence)
        for store in [worker, observer, subscribed] { #expect(await daemon.settled(store, uses: 1)) }
        for store in [quiet, leased] { #expect(await daemon.settled(store)) }

        daemon.clock.advance(byMs: 59_999)
        #expect(await daemon.manager.closeIdleStores() == [], "not idle long enough")
        daemon.clock.advance(byMs: 1)
        // A live lease does not keep its store open: it is in the store's lease log.
        #expect(await daemon.manager.closeIdleStores() == [leased, quiet].sorted())
        #expect(daemon.open == [.defaultStore, worker, observer, subscribed])
        #expect(daemon.logged("store closed", quiet) && daemon.logged("store closed", leased))
        #expect(daemon.manager.reservedStores == 4)

        // Opened again, a store has what it held: its entries, and its lease, same holder and fence.
        #expect(try await daemon.client(quiet).peek(space: "s", segment: "g").sequence == 1)
        let refused = try await daemon.client(leased).acquire(key: "k", holder: "other", ttl: .seconds(1))
        #expect(!refused.ok && refused.holder == "h" && refused.fence == fence)

        // Once their streams end, the other stores close too; the default store never does.
        for stream in [presence, watching, subscription] { stream.close(error: nil) }
        for store in [worker, observer, subscribed, quiet, leased] { #expect(await daemon.settled(store)) }
        daemon.clock.advance(byMs: 60_000)
        #expect(await daemon.manager.closeIdleStores() == [worker, observer, subscribed, quiet, leased].sorted())
        #expect(daemon.open == [.defaultStore])
        #expect(daemon.manager.reservedStores == 1)
        await daemon.stop()
    }

    @Test func anIdleCloseTimeOfZeroNeverClosesAStore() async throws {
        let daemon = try await StoreBoundDaemon.start(maxOpenStores: 10, idleCloseMs: 0)
        let store = WireUUID.random()
        _ = try await daemon.client(store).spaces()
        #expect(await daemon.settled(store))
        daemon.clock.advance(byMs: 86_400_000)
        #expect(await daemon.manager.closeIdleStores() == [])
        #expect(daemon.open == [store])
        await daemon.stop()
    }

    @Test func aStoreThatCannotBeOpenedFailsItsStreamAtOnceWithTheCauseAndALogLine() async throws {
        let broken = WireUUID.random()
        let daemon = try await StoreBoundDaemon.start(maxOpenStores: 10) { root in
            FailingCatalog(FileStoreCatalog(root: root), failing: broken,
                           .storage("cannot open store in \(root)/\(broken): open failed: Too many open files (errno 24)"))
        }
        let error = await StreamsError.of { _ = try await withDeadline { try await daemon.client(broken).spaces() } }
        #expect(error?.name == "store_unavailable" && error?.code == .transient)
        #expect(error?.message.hasPrefix("store unavailable: cannot open store in ") == true)
        #expect(error?.message.hasSuffix("Too many open files (errno 24)") == true, "\(String(describing: error))")
        #expect(daemon.logged("store open failed", broken))
        #expect(daemon.manager.reservedStores == 0, "a failed open gives its place back")
        // Other stores are not affected.
        try await daemon.client(.random()).produce(space: "s", segment: "g", records: makeRecords(1))
        await daemon.stop()
    }
}

/// A catalog whose opens of one store fail with `error`.
struct FailingCatalog: StoreCatalog {
    let base: any StoreCatalog
    let failing: WireUUID
    let error: StreamsError

    init(_ base: any StoreCatalog, failing: WireUUID, _ error: StreamsError) {
        self.base = base
        self.failing = failing
        self.error = error
    }

    func contains(_ store: WireUUID) async throws(StreamsError) -> Bool { try await base.contains(store) }
    func create(_ store: WireUUID) async throws(StreamsError) -> Bool { try await base.create(store) }
    func open(_ store: WireUUID) async throws(StreamsError) -> any StreamStore {
        if store == failing { throw error }
        return try await base.open(store)
    }
    var keepsContentsWhenClosed: Bool { base.keepsContentsWhenClosed }
}
