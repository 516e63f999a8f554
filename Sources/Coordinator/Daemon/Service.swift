/// One part of the daemon with a lifetime: started in order by a ``ServiceGroup``, stopped in reverse.
public protocol Service: Sendable {
    /// A short name for log lines and errors (`event loops`, `listener`).
    var name: String { get }

    /// Brings the service up; a failure stops every service started before it, in reverse order.
    func start() async throws(DaemonStartError)

    /// Stops the service, gracefully until `deadline`. When the deadline passes first, the group cancels
    /// the calling task: the service then stops at once (closing what is left) and returns promptly.
    func stop(deadline: ContinuousClock.Instant) async
}

/// A ``Service`` made of two closures, for parts that need no type of their own.
public struct ClosureService: Service {
    public let name: String
    private let starting: @Sendable () async throws(DaemonStartError) -> Void
    private let stopping: @Sendable (ContinuousClock.Instant) async -> Void

    /// A service called `name` that runs `start` and `stop`.
    public init(_ name: String,
                start: @escaping @Sendable () async throws(DaemonStartError) -> Void = {},
                stop: @escaping @Sendable (ContinuousClock.Instant) async -> Void = { _ in }) {
        self.name = name
        starting = start
        stopping = stop
    }

    public func start() async throws(DaemonStartError) { try await starting() }

    public func stop(deadline: ContinuousClock.Instant) async { await stopping(deadline) }
}
