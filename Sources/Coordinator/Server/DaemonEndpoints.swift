import StreamCore
import Synchronization
import Transport

/// The plain HTTP endpoints served on the daemon's listener beside `/streamz`: `/healthz`, `/readyz`
/// and `/metrics` (ARCHITECTURE §7), and the ``Dashboard`` at `/ui`.
public final class DaemonEndpoints: Sendable {
    /// Whether the daemon should receive traffic.
    public enum Readiness: UInt8, Sendable, Hashable {
        /// Starting: the listener or the default store is not up yet.
        case starting
        /// Serving.
        case ready
        /// Draining after SIGTERM/SIGINT: finishing streams, taking no new work.
        case shuttingDown
    }

    /// The metrics `/metrics` renders.
    public let metrics: MetricsRegistry
    private let state = Atomic<UInt8>(Readiness.starting.rawValue)
    /// Conditions besides the lifecycle that keep the daemon not ready: each returns its reason, or nil.
    private let readinessChecks = Mutex<[@Sendable () -> String?]>([])
    /// Lines `/readyz` adds below its first line (the cluster's live daemons), or nil for none.
    private let readinessDetail = Mutex<(@Sendable () -> [String])?>(nil)

    /// Endpoints rendering `metrics`; not ready until ``markReady()``.
    public init(metrics: MetricsRegistry) {
        self.metrics = metrics
    }

    /// The current readiness.
    public var readiness: Readiness {
        Readiness(rawValue: state.load(ordering: .acquiring)) ?? .starting
    }

    /// The listener is up and the default store is open. Has no effect once shutting down.
    public func markReady() {
        _ = state.compareExchange(
            expected: Readiness.starting.rawValue, desired: Readiness.ready.rawValue, ordering: .acquiringAndReleasing)
    }

    /// Adds a condition `/readyz` checks once the daemon is ready: while it returns a reason, `/readyz`
    /// answers 503 with it.
    public func addReadinessCheck(_ check: @escaping @Sendable () -> String?) {
        readinessChecks.withLock { $0.append(check) }
    }

    /// Sets the lines `/readyz` answers below its first line, whether ready or not (one per line, no
    /// line breaks in them): what an operator wants to see beside readiness, such as the cluster's daemons.
    public func setReadinessDetail(_ detail: @escaping @Sendable () -> [String]) {
        readinessDetail.withLock { $0 = detail }
    }

    /// The first reason a readiness check gives, or nil.
    public var notReadyReason: String? {
        readinessChecks.withLock { $0 }.lazy.compactMap { $0() }.first
    }

    /// The daemon is draining: `/readyz` answers 503 from now on.
    public func markShuttingDown() {
        state.store(Readiness.shuttingDown.rawValue, ordering: .releasing)
    }

    /// The answer for a plain HTTP request, or nil when the path is not one of these endpoints.
    public func respond(to request: HTTPRequestHead) -> HTTPResponse? {
        let path = request.path
        guard path == "/healthz" || path == "/readyz" || path == "/metrics" || Dashboard.serves(path) else { return nil }
        guard request.method == "GET" || request.method == "HEAD" else {
            return .text(status: 405, "only GET and HEAD are allowed here\n", headers: ["Allow": "GET, HEAD"])
        }
        if let file = Dashboard.response(for: path) { return file }
        switch path {
        case "/healthz":
            // The process answers, so it is alive; readiness is /readyz's business.
            return .text(status: 200, "ok " + BuildInfo.versionLine("coordd") + "\n")
        case "/readyz":
            let detail = readinessDetail.withLock { $0 }?().map { $0 + "\n" }.joined() ?? ""
            switch readiness {
            case .ready:
                if let reason = notReadyReason { return .text(status: 503, "not ready: \(reason)\n" + detail) }
                return .text(status: 200, "ready\n" + detail)
            case .starting: return .text(status: 503, "starting\n" + detail)
            case .shuttingDown: return .text(status: 503, "shutting down\n" + detail)
            }
        default:
            return HTTPResponse(status: 200, headers: ["Content-Type": PrometheusText.contentType],
                                body: Array(metrics.exposition().utf8))
        }
    }
}
