import StreamCore
import Transport

/// Opens a replacement for a stream that a lost connection (or another transient failure) ended, for
/// the streams that must outlive a reconnect: a worker's registration and inventory observers.
///
/// Only providers that reconnect on their own get one; with an in-process provider a stream's end is
/// final, as before. Attempts repeat until one succeeds, a permanent error comes back (the provider
/// was closed, the token was refused), or the owner gives up; between attempts it waits a backoff
/// that doubles from ``ReopenLimits/initialDelayMs`` to ``ReopenLimits/maxDelayMs``, cut short when
/// the provider announces a new connection.
struct StreamReopener: Sendable {
    let provider: any ReconnectingStreamProvider
    let limits: ReopenLimits
    /// The clock the backoff waits on.
    let clock: any MonotonicClock

    /// A reopener when `provider` reconnects on its own, else nil.
    init?(provider: any StreamProvider, limits: ReopenLimits = ReopenLimits(),
          clock: any MonotonicClock = SystemMonotonicClock()) {
        guard let reconnecting = provider as? any ReconnectingStreamProvider else { return nil }
        self.provider = reconnecting
        self.limits = limits
        self.clock = clock
    }

    /// A new stream from `open`, or the error that ends the attempts. `isAbandoned` is checked before
    /// every attempt (the owner was closed).
    func reopen(
        isAbandoned: @Sendable () -> Bool, _ open: @Sendable () async throws(StreamsError) -> any BidiStream
    ) async -> Result<any BidiStream, StreamsError> {
        let backoff = DeadlineWaiter(clock: clock)
        // Listened to before the first attempt, so a reconnect that happens while an attempt fails is not
        // missed: its wake is kept and cuts the next backoff short.
        let reconnections = provider.reconnections()
        return await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in reconnections { backoff.wake() }
            }
            defer { group.cancelAll() }
            return await attempts(isAbandoned: isAbandoned, open, backoff: backoff)
        }
    }

    private func attempts(
        isAbandoned: @Sendable () -> Bool, _ open: @Sendable () async throws(StreamsError) -> any BidiStream,
        backoff: DeadlineWaiter
    ) async -> Result<any BidiStream, StreamsError> {
        var attempt = 0
        while true {
            if isAbandoned() { return .failure(.streamClosed("the stream was closed while reconnecting")) }
            if Task.isCancelled { return .failure(.cancelled) }
            do {
                return .success(try await open())
            } catch {
                if error.code == .permanent || error == .cancelled { return .failure(error) }
            }
            attempt += 1
            await backoff.wait(forMs: Int64(limits.delayMs(attempt: attempt)))
        }
    }
}

/// How long a stream that must outlive a reconnect waits between attempts to open it again.
struct ReopenLimits: Sendable {
    /// The first wait: each `callStream` already makes its own attempts, so this is a pause between
    /// rounds of them. coordd's choice.
    var initialDelayMs = 250
    /// The longest wait: streamkit's reconnect backoff cap (10 s, streamkit v1 §3.5).
    var maxDelayMs = 10_000

    /// `initial × 2^(attempt − 1)`, capped, moved by up to ±20 % so clients do not return in lockstep.
    func delayMs(attempt: Int) -> Int {
        let base = min(Double(initialDelayMs) * Double(1 << min(max(attempt - 1, 0), 20)), Double(maxDelayMs))
        return Int(base * Double.random(in: 0.8...1.2))
    }
}
