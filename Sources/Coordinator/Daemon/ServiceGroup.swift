import CorePrimitives
import Synchronization

/// Services started in order and stopped in reverse, the shape of swift-service-lifecycle.
///
/// - **One rollback path.** When a service fails to start, those started before it are stopped in
///   reverse order and the start error is thrown; nothing started stays running.
/// - **A deadline.** ``stop(within:)`` gives every service the same deadline; a service still stopping
///   when it passes is cancelled, which tells it to stop at once.
/// - **Idempotent stop**, and ``stopped`` to await the end from anywhere.
public final class ServiceGroup: Sendable {
    private struct State {
        /// Services started, in start order.
        var started: [any Service] = []
        var stopping = false
    }

    private let services: [any Service]
    private let state = Mutex(State())
    /// Opened once every started service has stopped.
    public let stopped = Latch()

    /// A group of `services`, started in this order.
    public init(_ services: [any Service]) {
        self.services = services
    }

    /// The names of the services started and not stopped, in start order.
    public var running: [String] { state.withLock { $0.started.map(\.name) } }

    /// Starts each service in order. On a failure, stops those already started (in reverse, with
    /// `rollbackGrace`) and throws the failure.
    public func start(rollbackGrace: Duration = .seconds(5)) async throws(DaemonStartError) {
        for service in services {
            guard !state.withLock({ $0.stopping }) else {
                throw DaemonStartError(.environment, "stopped while starting \(service.name)")
            }
            do throws(DaemonStartError) {
                try await service.start()
            } catch {
                // Not logged here: the error is thrown, and whoever started the group reports it once.
                await stop(within: rollbackGrace)
                throw error
            }
            let stopRequested = state.withLock { s -> Bool in
                guard !s.stopping else { return true }
                s.started.append(service)
                return false
            }
            if stopRequested {
                // A stop began while this service started, and did not see it: stop it here.
                await Self.stop(service, deadline: ContinuousClock.now + rollbackGrace)
                throw DaemonStartError(.environment, "stopped while starting \(service.name)")
            }
        }
    }

    /// Stops the started services in reverse order, each gracefully until `grace` from now has passed
    /// and at once after it. Idempotent: later calls wait for the first to finish.
    public func stop(within grace: Duration) async {
        let deadline = ContinuousClock.now + grace
        let toStop = state.withLock { s -> [any Service]? in
            guard !s.stopping else { return nil }
            s.stopping = true
            return s.started
        }
        guard let toStop else {
            await stopped.wait()
            return
        }
        for service in toStop.reversed() {
            await Self.stop(service, deadline: deadline)
            state.withLock { _ = $0.started.popLast() }
        }
        stopped.open()
    }

    /// Stops `service`, cancelling its stop when `deadline` passes so it stops at once.
    private static func stop(_ service: any Service, deadline: ContinuousClock.Instant) async {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await service.stop(deadline: deadline)
                return true
            }
            group.addTask {
                try? await Task.sleep(until: deadline, clock: .continuous)
                return false
            }
            if await group.next() == false {
                // Grace is over: the stop still running is told to finish at once, and awaited.
                group.cancelAll()
                while await group.next() != nil {}
            }
            group.cancelAll()
        }
    }
}
