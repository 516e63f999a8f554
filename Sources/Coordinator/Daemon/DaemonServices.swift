import StreamCore
import Synchronization
import Transport

/// The services a daemon is made of, in start order (ARCHITECTURE §7): the data directory lock, the
/// event loops, the stores, the listener, the log summaries, readiness. Each holds what it started so
/// that stopping it (in reverse, or as the rollback of a failed start) releases exactly that.

/// Holds the one data directory lock (one daemon per directory) and creates the declared stores.
final class DataDirectoryService: Service {
    let name = "data directory"
    private let configuration: DaemonConfiguration
    private let catalog: any StoreCatalog
    private let lock = Mutex<DataDirectoryLock?>(nil)

    init(configuration: DaemonConfiguration, catalog: any StoreCatalog) {
        self.configuration = configuration
        self.catalog = catalog
    }

    func start() async throws(DaemonStartError) {
        let taken = try DaemonResources.lockDataDirectory(configuration)
        lock.withLock { $0 = taken }
        // Created once the directory is locked, so a refused second daemon creates nothing.
        do throws(DaemonStartError) {
            // PostgreSQL's are created once its schema is ready (`PostgresService`).
            if configuration.storage != .postgres {
                try await DaemonResources.createDeclaredStores(configuration, in: catalog)
            }
        } catch {
            await stop(deadline: .now)
            throw error
        }
    }

    func stop(deadline: ContinuousClock.Instant) async {
        lock.withLock { held in
            held?.release()
            held = nil
        }
    }
}

/// The event loops; stopping them blocks until their threads exit, so it runs off the concurrency pool.
final class EventLoopService: Service {
    let name = "event loops"
    private let loopCount: Int
    private let limits: RuntimeLimits
    private let events: ServerEventLog
    private let started = Mutex<EventLoopGroup?>(nil)

    init(loopCount: Int, limits: RuntimeLimits, events: ServerEventLog) {
        self.loopCount = loopCount
        self.limits = limits
        self.events = events
    }

    /// The loops, once started.
    var group: EventLoopGroup? { started.withLock { $0 } }

    func start() async throws(DaemonStartError) {
        do {
            let group = try EventLoopGroup(loopCount: loopCount, limits: limits, events: events.runtimeEvents)
            started.withLock { $0 = group }
        } catch {
            events.startFailed(error, during: "event_loop_start")
            throw DaemonStartError(.environment, "cannot start the event loops: \(error)")
        }
    }

    func stop(deadline: ContinuousClock.Instant) async {
        guard let group = started.withLock({ $0 }) else { return }
        // Joining the loops' threads blocks: on a thread of its own, not one of the concurrency pool.
        try? await Posix.runBlocking(name: "coordd-loops-stop") { group.shutdownGracefully(graceMs: 0) }
    }
}

/// The PostgreSQL connections and schema (`--storage postgres`); `/readyz` reports what they reached.
///
/// Once the schema is ready (at start, or when PostgreSQL comes later) the declared stores are created.
final class PostgresService: Service {
    let name = "postgres"
    private let configuration: DaemonConfiguration
    private let catalog: PostgresStoreCatalog
    private let logger: Logger
    private let endpoints: DaemonEndpoints

    init(configuration: DaemonConfiguration, catalog: PostgresStoreCatalog, logger: Logger, endpoints: DaemonEndpoints) {
        self.configuration = configuration
        self.catalog = catalog
        self.logger = logger
        self.endpoints = endpoints
    }

    func start() async throws(DaemonStartError) {
        let status = catalog.status
        endpoints.addReadinessCheck { status.notReadyReason }
        let configuration = configuration
        let catalog = catalog
        let logger = logger
        try await status.start(logger: logger) {
            do throws(DaemonStartError) {
                try await DaemonResources.createDeclaredStores(configuration, in: catalog)
            } catch {
                logger.error("declared stores not created", ["error": error.message])
            }
        }
    }

    func stop(deadline: ContinuousClock.Instant) async {
        await catalog.status.close()
    }
}

/// The stores' nodes: the default store is opened at start, so a damaged log stops the start and not
/// the first client; stopping closes every node and flushes its store.
final class StoreService: Service {
    let name = "stores"
    let nodes: NodeManager
    /// False where no store can be opened yet (PostgreSQL storage: `/readyz` says why).
    private let opensDefaultStore: Bool

    init(nodes: NodeManager, opensDefaultStore: Bool = true) {
        self.nodes = nodes
        self.opensDefaultStore = opensDefaultStore
    }

    func start() async throws(DaemonStartError) {
        guard opensDefaultStore else { return }
        do {
            _ = try await nodes.node(for: .defaultStore)
        } catch {
            throw DaemonStartError(.environment, "cannot open the default store \(WireUUID.defaultStore): \(error.message)")
        }
    }

    func stop(deadline: ContinuousClock.Instant) async {
        await nodes.close()
    }
}

/// The listener and its connections. Stopping ends every stream and connection within the listener's
/// share of the remaining grace, and closes what is left at once.
final class ListenerService: Service {
    let name = "listener"
    private let configuration: WebSocketServerConfiguration
    private let loops: EventLoopService
    private let acceptor: any StreamAcceptor
    private let address: String
    private let started = Mutex<WebSocketServer?>(nil)

    init(configuration: WebSocketServerConfiguration, address: String, loops: EventLoopService, acceptor: any StreamAcceptor) {
        self.configuration = configuration
        self.address = address
        self.loops = loops
        self.acceptor = acceptor
    }

    /// The server, once listening.
    var server: WebSocketServer? { started.withLock { $0 } }

    func start() async throws(DaemonStartError) {
        guard let group = loops.group else { throw DaemonStartError(.environment, "the event loops are not running") }
        do {
            let server = try await WebSocketServer.start(configuration: configuration, group: group, acceptor: acceptor)
            started.withLock { $0 = server }
        } catch {
            throw DaemonStartError(.environment, "cannot listen on \(address): \(error)")
        }
    }

    func stop(deadline: ContinuousClock.Instant) async {
        guard let server else { return }
        let remaining = ContinuousClock.now.duration(to: deadline)
        let remainingMs = max(0, remaining.components.seconds * 1_000 + remaining.components.attoseconds / 1_000_000_000_000_000)
        await server.shutdown(graceMs: Int(remainingMs * DaemonLimits.listenerShareOfGracePercent / 100))
    }
}

/// Tasks that run for the daemon's whole life (the log summaries), cancelled and awaited at stop.
final class BackgroundService: Service {
    let name: String
    private let body: @Sendable () async -> Void
    private let tasks = OwnedTasks()

    /// A service running `body` until it is stopped (`body` must end when its task is cancelled).
    init(_ name: String, _ body: @escaping @Sendable () async -> Void) {
        self.name = name
        self.body = body
    }

    func start() async throws(DaemonStartError) {
        tasks.spawn(body)
    }

    func stop(deadline: ContinuousClock.Instant) async {
        await tasks.cancelAndWait()
    }
}
