import Dispatch
import StreamCore
import Synchronization
import Transport

/// A running coordd: stores, event loops, the listener and its endpoints, started in that order and
/// stopped in reverse (ARCHITECTURE §7).
public final class Daemon: Sendable {
    /// What the daemon was started with.
    public let configuration: DaemonConfiguration
    /// The stores' nodes.
    public let nodes: NodeManager
    /// `/healthz`, `/readyz`, `/metrics`.
    public let endpoints: DaemonEndpoints
    /// The metric series.
    public let metrics: DaemonMetrics
    private let group: EventLoopGroup
    private let server: WebSocketServer
    private let logger: Logger
    private let dataLock: DataDirectoryLock?
    /// The PostgreSQL connections and schema (`--storage postgres`).
    private let postgres: PostgresStorageStatus?
    /// Writes the summaries of rate-limited log lines as their intervals end.
    private let summaries: Task<Void, Never>?
    private let stopping = Atomic<Bool>(false)

    private init(configuration: DaemonConfiguration, nodes: NodeManager, endpoints: DaemonEndpoints, metrics: DaemonMetrics,
                 group: EventLoopGroup, server: WebSocketServer, logger: Logger, dataLock: DataDirectoryLock?,
                 postgres: PostgresStorageStatus? = nil) {
        self.configuration = configuration
        self.nodes = nodes
        self.endpoints = endpoints
        self.metrics = metrics
        self.group = group
        self.server = server
        self.logger = logger
        self.dataLock = dataLock
        self.postgres = postgres
        summaries = Self.writeSummaries(of: logger)
    }

    /// The address the listener is bound to (with the kernel's port when port 0 was asked for).
    public var localAddress: SocketAddress { server.localAddress }

    /// Builds everything and starts listening: TLS and token keys are loaded, the data directory is
    /// locked (one daemon per directory), the default store is opened (so a damaged log stops the
    /// start, not the first client), then the listener binds.
    /// `/readyz` answers 200 from the moment this returns.
    public static func start(_ configuration: DaemonConfiguration, logger: Logger,
                             loopCount: Int = EventLoopGroup.defaultLoopCount) async throws(DaemonStartError) -> Daemon {
        let tls = try DaemonResources.tlsContext(configuration)
        let verifier = try DaemonResources.verifier(configuration)
        let catalog = try DaemonResources.storeCatalog(configuration)
        let dataLock = try DaemonResources.lockDataDirectory(configuration)
        try DaemonResources.createDeclaredStores(configuration, in: catalog)
        let metrics = DaemonMetrics()
        let events = ServerEventLog(logger: logger, metrics: metrics)
        let endpoints = DaemonEndpoints(metrics: metrics.registry)
        let nodes = NodeManager(configuration: configuration.nodeConfiguration(metrics: metrics, logger: logger), catalog: catalog)
        let postgres = try await PostgresStorageStatus.start(configuration, logger: logger)
        if let postgres { endpoints.addReadinessCheck { postgres.notReadyReason } }
        do {
            // PostgreSQL storage has no default store to open yet; /readyz says why.
            if postgres == nil { _ = try await nodes.node(for: .defaultStore) }
        } catch {
            await nodes.close()
            throw DaemonStartError(.environment, "cannot open the default store \(WireUUID.defaultStore): \(error.message)")
        }
        let group: EventLoopGroup
        do {
            var runtime = RuntimeLimits()
            runtime.maxOutboundBytes = Int(configuration.maxOutboundMemoryBytes)
            group = try EventLoopGroup(loopCount: loopCount, limits: runtime, events: events.runtimeEvents)
        } catch {
            events.startFailed(error, during: "event_loop_start")
            await postgres?.close()
            await nodes.close()
            throw DaemonStartError(.environment, "cannot start the event loops: \(error)")
        }
        let acceptor = DaemonAcceptor(
            manager: nodes, verifier: verifier, allowAnonymous: configuration.acceptsAnonymous,
            metricsNeedToken: configuration.metricsNeedToken, events: events, respond: { endpoints.respond(to: $0) })
        let server: WebSocketServer
        do {
            let listener = WebSocketServerConfiguration(host: configuration.listen.host, port: configuration.listen.port, tls: tls)
            server = try await WebSocketServer.start(configuration: listener, group: group, acceptor: acceptor)
        } catch {
            await postgres?.close()
            await nodes.close()
            await Self.stopLoops(group)
            throw DaemonStartError(.environment, "cannot listen on \(configuration.listen): \(error)")
        }
        metrics.collect(from: nodes, connections: { server.webSocketCount })
        Self.watch(group.outboundBudget, metrics: metrics)
        endpoints.markReady()
        logger.info("listening", ["addr": server.localAddress, "tls": tls == nil ? "off" : "on",
                                  "tokens": verifier?.acceptedAlgorithms.joined(separator: ",") ?? "none",
                                  "anonymous": configuration.acceptsAnonymous ? "allowed" : "refused",
                                  "metrics": configuration.metricsNeedToken ? "token" : "anonymous"])
        return Daemon(configuration: configuration, nodes: nodes, endpoints: endpoints, metrics: metrics, group: group,
                      server: server, logger: logger, dataLock: dataLock, postgres: postgres)
    }

    /// Drains within the configured grace: `/readyz` turns 503, the listener stops accepting, every
    /// stream ends with a `server shutting down` close frame and every connection with a WebSocket
    /// close, the stores flush and close their logs, and the loops stop. Idempotent.
    public func shutdown() async {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let clock = ContinuousClock()
        let started = clock.now
        let graceMs = configuration.shutdownGraceMs
        logger.info("shutting down",
                    ["grace": DurationText.format(milliseconds: graceMs), "connections": server.connectionCount])
        endpoints.markShuttingDown()
        await server.shutdown(graceMs: Int(graceMs * DaemonLimits.listenerShareOfGracePercent / 100))
        await nodes.close()
        await postgres?.close()
        dataLock?.release()
        await Self.stopLoops(group)
        summaries?.cancel()
        logger.flushSuppressed(all: true)
        let took = started.duration(to: clock.now)
        let tookMs = took.components.seconds * 1_000 + took.components.attoseconds / 1_000_000_000_000_000
        logger.info("stopped", ["took_ms": tookMs])
    }

    /// Exposes the bytes held for clients against the outbound memory budget (its closes are slow-client
    /// closes, reported through the runtime's events).
    private static func watch(_ budget: OutboundBudget, metrics: DaemonMetrics) {
        let held = metrics.registry.gauge(
            "coordd_outbound_bytes_held", help: "Bytes queued for clients in all connections' write queues.")
        metrics.registry.addCollector { held.set(Double(budget.heldBytes)) }
    }

    /// The task that writes the summary of each rate-limit interval that ended with lines left out,
    /// once per interval, so it comes even when no further line of its kind does; nil when the logger
    /// writes every line.
    private static func writeSummaries(of logger: Logger) -> Task<Void, Never>? {
        guard let intervalMs = logger.rateLimits?.intervalMs else { return nil }
        return Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(intervalMs))
                logger.flushSuppressed()
            }
        }
    }

    /// Stops the loops off the concurrency pool: it blocks until their threads exit.
    private static func stopLoops(_ group: EventLoopGroup) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                group.shutdownGracefully(graceMs: 0)
                done.resume()
            }
        }
    }
}
