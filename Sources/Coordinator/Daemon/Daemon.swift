import CorePrimitives
import StreamCore
import Synchronization
import Transport

/// A running coordd: a ``ServiceGroup`` of the data directory lock, the PostgreSQL connections (with
/// `--storage postgres`), the event loops, the stores, the listener, the log summaries and readiness,
/// started in that order and stopped in reverse
/// (ARCHITECTURE §7).
public final class Daemon: Sendable {
    /// What the daemon was started with.
    public let configuration: DaemonConfiguration
    /// The stores' nodes.
    public let nodes: NodeManager
    /// `/healthz`, `/readyz`, `/metrics`.
    public let endpoints: DaemonEndpoints
    /// The metric series.
    public let metrics: DaemonMetrics
    /// Where stores are served, and the forwarder of those served elsewhere.
    public let cluster: DaemonCluster
    private let services: ServiceGroup
    private let server: WebSocketServer
    private let logger: Logger

    private init(configuration: DaemonConfiguration, nodes: NodeManager, endpoints: DaemonEndpoints, metrics: DaemonMetrics,
                 cluster: DaemonCluster, services: ServiceGroup, server: WebSocketServer, logger: Logger) {
        self.configuration = configuration
        self.cluster = cluster
        self.nodes = nodes
        self.endpoints = endpoints
        self.metrics = metrics
        self.services = services
        self.server = server
        self.logger = logger
    }

    /// The address the listener is bound to (with the kernel's port when port 0 was asked for).
    public var localAddress: SocketAddress { server.localAddress }

    /// Opened once the daemon has stopped (after ``shutdown()`` or a failed start's rollback).
    public var stopped: Latch { services.stopped }

    /// Builds everything and starts listening: TLS and token keys are loaded, the data directory is
    /// locked (one daemon per directory), the event loops start, the default store is opened (so a
    /// damaged log stops the start, not the first client), then the listener binds. When a step fails,
    /// every one before it is stopped again. `/readyz` answers 200 from the moment this returns.
    ///
    /// `extraServices` start after the built-in ones and stop before them (tests inject failures here).
    /// `router` says which stores other daemons serve; their streams are forwarded there. By default, with
    /// `--storage postgres`, store ownership does (``OwnershipRouter``); otherwise every store is local.
    public static func start(_ configuration: DaemonConfiguration, logger: Logger,
                             loopCount: Int = EventLoopGroup.defaultLoopCount,
                             extraServices: [any Service] = [],
                             router: (any StoreRouter)? = nil) async throws(DaemonStartError) -> Daemon {
        let tls = try DaemonResources.tlsContext(configuration)
        let verifier = try DaemonResources.verifier(configuration)
        let catalog = try DaemonResources.storeCatalog(configuration, logger: logger)
        let metrics = DaemonMetrics()
        let events = ServerEventLog(logger: logger, metrics: metrics)
        let endpoints = DaemonEndpoints(metrics: metrics.registry)
        let nodes = NodeManager(configuration: configuration.nodeConfiguration(metrics: metrics, logger: logger), catalog: catalog)
        var runtime = RuntimeLimits()
        runtime.maxOutboundBytes = Int(configuration.maxOutboundMemoryBytes)
        let loops = EventLoopService(loopCount: loopCount, limits: runtime, events: events)
        let ownershipRouter = (catalog as? PostgresStoreCatalog).map { OwnershipRouter(ownerships: $0.ownerships) }
        let cluster = try DaemonResources.cluster(configuration, router: router ?? ownershipRouter ?? LocalStoreRouter(),
                                                  group: { loops.group })
        cluster.report(to: metrics.registry)
        let acceptor = DaemonAcceptor(
            manager: nodes, verifier: verifier, allowAnonymous: configuration.acceptsAnonymous,
            metricsNeedToken: configuration.metricsNeedToken, events: events, cluster: cluster,
            respond: { endpoints.respond(to: $0) })
        let listener = ListenerService(
            configuration: WebSocketServerConfiguration(host: configuration.listen.host, port: configuration.listen.port, tls: tls),
            address: "\(configuration.listen)", loops: loops, acceptor: acceptor)
        let readiness = ClosureService("readiness", start: {
            // Non-nil: the listener started before this service.
            guard let server = listener.server else { return }
            // The default node id names the port the listener bound.
            let port = server.localAddress.port
            (catalog as? PostgresStoreCatalog)?.ownerships.identify(
                as: configuration.clusterNodeID ?? ClusterNodeID.defaultID(port: port),
                advertiseURL: ClusterNodeID.defaultAdvertiseURL(host: configuration.listen.host, port: port, tls: tls != nil))
            metrics.collect(from: nodes, connections: { server.webSocketCount })
            Self.watch(loops.group?.outboundBudget, metrics: metrics)
            endpoints.markReady()
            logger.info("listening", ["addr": server.localAddress, "tls": tls == nil ? "off" : "on",
                                      "tokens": verifier?.acceptedAlgorithms.joined(separator: ",") ?? "none",
                                      "anonymous": configuration.acceptsAnonymous ? "allowed" : "refused",
                                      "metrics": configuration.metricsNeedToken ? "token" : "anonymous"])
        }, stop: { _ in
            logger.info("shutting down", ["grace": DurationText.format(milliseconds: configuration.shutdownGraceMs),
                                          "connections": listener.server?.connectionCount ?? 0])
            endpoints.markShuttingDown()
            // Out of the cluster's placement before the stores close: the other daemons take them over.
            await (catalog as? PostgresStoreCatalog)?.ownerships.leave()
        })
        var services: [any Service] = [DataDirectoryService(configuration: configuration, catalog: catalog)]
        if let postgres = catalog as? PostgresStoreCatalog {
            services.append(PostgresService(configuration: configuration, catalog: postgres, logger: logger, endpoints: endpoints))
            services.append(OwnershipService(ownerships: postgres.ownerships, nodes: nodes))
            endpoints.setReadinessDetail { ClusterStatus.readinessLines(postgres.ownerships) }
            metrics.collect(ownerships: postgres.ownerships)
        }
        services += [loops, StoreService(nodes: nodes, opensDefaultStore: configuration.storage != .postgres), listener]
        // Stopped before the listener: forwarded streams end with `shutting_down` while it drains.
        services.append(ClosureService("forwarding", stop: { _ in await cluster.forwarder.stop() }))
        if let summaries = Self.summaryWriter(of: logger) { services.append(summaries) }
        services.append(contentsOf: extraServices)
        services.append(readiness)
        let group = ServiceGroup(services)
        do {
            try await group.start(rollbackGrace: .milliseconds(configuration.shutdownGraceMs))
        } catch {
            // Stores refused by the group before the stores service ran are closed too.
            await nodes.close()
            throw error
        }
        // Non-nil: the listener service started.
        return Daemon(configuration: configuration, nodes: nodes, endpoints: endpoints, metrics: metrics, cluster: cluster,
                      services: group, server: listener.server!, logger: logger)
    }

    /// Drains within the configured grace: `/readyz` turns 503, the listener stops accepting, every
    /// stream ends with a `server shutting down` close frame and every connection with a WebSocket
    /// close, the stores flush and close their logs, and the loops stop. Idempotent.
    public func shutdown() async {
        let clock = ContinuousClock()
        let started = clock.now
        await services.stop(within: .milliseconds(configuration.shutdownGraceMs))
        logger.flushSuppressed(all: true)
        let took = started.duration(to: clock.now)
        let tookMs = took.wholeMilliseconds
        logger.info("stopped", ["took_ms": tookMs])
    }

    /// Exposes the bytes held for clients against the outbound memory budget (its closes are slow-client
    /// closes, reported through the runtime's events).
    private static func watch(_ budget: OutboundBudget?, metrics: DaemonMetrics) {
        guard let budget else { return }
        let held = metrics.registry.gauge(
            "coordd_outbound_bytes_held", help: "Bytes queued for clients in all connections' write queues.")
        metrics.registry.addCollector { held.set(Double(budget.heldBytes)) }
    }

    /// The service that writes the summary of each rate-limit interval that ended with lines left out,
    /// once per interval, so it comes even when no further line of its kind does; nil when the logger
    /// writes every line.
    private static func summaryWriter(of logger: Logger) -> BackgroundService? {
        guard let intervalMs = logger.rateLimits?.intervalMs else { return nil }
        return BackgroundService("log summaries") {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(intervalMs))
                logger.flushSuppressed()
            }
        }
    }
}
