import StreamCore
import Transport

/// What the daemon's listener and connections tell operators: WebSocket connections opened and
/// closed (info), and refused credentials, failed TLS handshakes, failed accepts and slow clients
/// closed (warn), each with its counter. Lines go through the daemon's logger, which rate-limits them,
/// so a connection storm costs a sample of lines and a summary per second.
public struct ServerEventLog: Sendable {
    let logger: Logger
    let metrics: DaemonMetrics

    /// Reports to `logger` and counts in `metrics`.
    public init(logger: Logger, metrics: DaemonMetrics) {
        self.logger = logger
        self.metrics = metrics
    }

    /// The hook the event loops report to.
    public var runtimeEvents: RuntimeEvents {
        RuntimeEvents { [self] event in record(event) }
    }

    /// One line and its counter for what the runtime reported.
    public func record(_ event: RuntimeEvent) {
        switch event {
        case .webSocketOpened(let peer):
            metrics.connectionsOpened.increment()
            logger.info("connection opened", ["peer": Self.text(peer)])
        case .webSocketClosed(let peer, let reason):
            metrics.connectionsClosed.increment()
            logger.info("connection closed", ["peer": Self.text(peer), "reason": reason])
        case .slowConnectionClosed(let close):
            // Logged before it is counted, so whoever sees the count can find the line.
            logger.warn("slow client closed", [
                "peer": Self.text(close.peer), "reason": close.reason.rawValue, "queued_bytes": close.queuedBytes,
                "limit_bytes": close.limitBytes, "stalled_ms": close.stalledMs.map(String.init) ?? "-",
            ])
            metrics.slowClientsClosed.increment([close.reason.rawValue])
        case .acceptFailed(let error, let retryInMs):
            let name = ErrnoName.of(error.errno)
            metrics.acceptFailures.increment([name])
            if let shortage = error.shortage {
                metrics.resourceExhaustion.increment([shortage.rawValue, "accept"])
                logger.warn(FailureLine.message(for: shortage), [
                    "during": "accept", "errno": name, "retry_in_ms": retryInMs, "error": error.description,
                ])
            } else {
                logger.warn("accept failed", ["errno": name, "retry_in_ms": retryInMs, "error": error.description])
            }
        case .tlsHandshakeFailed(let peer, let error):
            metrics.tlsHandshakeFailures.increment()
            logger.warn("tls handshake failed", ["peer": Self.text(peer), "error": error.message])
        }
    }

    /// A request refused for its credentials: `reason` is a stable name (a ``JWTRejection/name``,
    /// `missing_token`, …) and `detail` its words. Neither ever holds the token.
    public func authRejected(reason: String, detail: String, peer: SocketAddress?, path: String) {
        metrics.authRejections.increment([reason])
        logger.warn("auth rejected", ["peer": Self.text(peer), "path": path, "reason": reason, "detail": detail])
    }

    /// A system resource ran out while the daemon was starting (`during`): the line and the counter,
    /// before the start fails. Other failures are only the start's error.
    public func startFailed(_ error: IOError, during: String) {
        guard let shortage = error.shortage else { return }
        metrics.resourceExhaustion.increment([shortage.rawValue, during])
        logger.warn(FailureLine.message(for: shortage), [
            "during": during, "call": error.call, "errno": ErrnoName.of(error.errno), "error": error.description,
        ])
    }

    private static func text(_ peer: SocketAddress?) -> String {
        peer?.description ?? "-"
    }
}
