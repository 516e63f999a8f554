import CorePrimitives
import Dispatch
import Foundation
import StreamCore
import Synchronization

/// A bounded pool of PostgreSQL connections, each on a thread of its own.
///
/// libpq's calls block, so they run on the pool's threads and never on Swift's cooperative threads:
/// ``run(_:)`` queues a job and suspends; the first free connection thread runs it and resumes the
/// caller. The queue of waiting jobs is bounded (``PostgresLimits/waitingPerConnection`` per
/// connection); past it a request fails at once with a transient `storage_error`. Connections are made
/// on first use and again whenever the server ended one, so the pool outlives server restarts.
public final class PostgresPool: Sendable {
    /// A queued request: runs on a connection thread with its session, or with nil when the pool closes.
    typealias Job = @Sendable (PostgresSession?) -> Void

    struct State {
        var jobs = RingBuffer<Job>(capacity: 64)
        var closed = false
    }

    /// What the connections connect with.
    public let settings: PostgresSettings
    /// Connections (and threads).
    public let size: Int
    /// Jobs that may wait for a connection.
    public let maxWaiting: Int
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let exited = DispatchGroup()

    /// Starts `size` connection threads; they connect on their first request.
    public init(settings: PostgresSettings, size: Int = PostgresLimits.defaultPoolSize,
                maxWaiting: Int? = nil) {
        precondition(size >= 1 && size <= PostgresLimits.maxPoolSize, "pool size \(size) outside 1…\(PostgresLimits.maxPoolSize)")
        self.settings = settings
        self.size = size
        self.maxWaiting = maxWaiting ?? size * PostgresLimits.waitingPerConnection
        for index in 0..<size {
            exited.enter()
            let thread = Thread { [self] in serve() }
            thread.name = "coordd-pg-\(index)"
            thread.start()
        }
    }

    /// The loop of one connection thread: take a job, run it with this thread's session.
    private func serve() {
        let session = PostgresSession(settings: settings)
        while true {
            wake.wait()
            let next: Job?? = state.withLock { s in
                if let job = s.jobs.popFirst() { return .some(job) }
                return s.closed ? .some(nil) : nil
            }
            guard let job = next else { continue }
            guard let job else { break }
            job(session)
        }
        session.disconnect()
        exited.leave()
    }

    /// Runs `body` on a connection thread with a connected session and returns its value.
    ///
    /// Throws a transient `storage_error` when the pool is full of waiting requests, when connecting
    /// fails, or when the connection breaks during `body`; `shutting_down` once the pool is closed.
    /// Cancelling the calling task does not stop a request that has started (libpq is blocking).
    public func run<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws(StreamsError) -> T)
        async throws(StreamsError) -> T
    {
        let result: Result<T, StreamsError> = await withCheckedContinuation { continuation in
            let job: Job = { session in
                guard let session else {
                    continuation.resume(returning: .failure(.shuttingDown.with(message: "postgres pool is closed")))
                    return
                }
                do throws(StreamsError) {
                    try session.prepareForRequest()
                    continuation.resume(returning: .success(try body(session)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            let refusal: StreamsError? = state.withLock { s in
                if s.closed { return .shuttingDown.with(message: "postgres pool is closed") }
                if s.jobs.count >= maxWaiting {
                    return .storage("postgres: \(s.jobs.count) requests are waiting for one of \(size) connections "
                                    + "already (the limit is \(maxWaiting))")
                }
                s.jobs.append(job)
                return nil
            }
            if let refusal {
                continuation.resume(returning: .failure(refusal))
            } else {
                wake.signal()
            }
        }
        return try result.get()
    }

    /// Runs `body` in one transaction on a connection thread (see ``PostgresSession/transaction(_:)``).
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws(StreamsError) -> T)
        async throws(StreamsError) -> T
    {
        try await run { session throws(StreamsError) in try session.transaction(body) }
    }

    /// Requests waiting for a connection now.
    public var waiting: Int { state.withLock { $0.jobs.count } }

    /// Fails the requests still waiting with `shutting_down`, lets the running ones finish, closes every
    /// connection and waits for the threads to end. Idempotent.
    public func close() async {
        let dropped: [Job] = state.withLock { s in
            guard !s.closed else { return [] }
            s.closed = true
            var jobs: [Job] = []
            while let job = s.jobs.popFirst() { jobs.append(job) }
            return jobs
        }
        for job in dropped { job(nil) }
        for _ in 0..<size { wake.signal() }
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            exited.notify(queue: .global()) { done.resume() }
        }
    }
}
