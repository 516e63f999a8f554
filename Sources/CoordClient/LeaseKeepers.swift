import StreamCore
import Synchronization

/// The renewals of a client's `withLease` keepers: one `lease_renewals` stream shared by the keepers
/// running, opened by the first renewal and half-closed when the last keeper ends, so a client that keeps
/// many leases opens no stream per renewal and holds none while it keeps nothing.
///
/// - A stream that fails (the connection was lost) fails the renewals waiting on it, which the keepers take
///   as renewals lost on the way; the next renewal opens a new stream.
/// - A server without the extension (a streamkit server) ends the stream with `invalid_request` before
///   answering anything. The renewal is then made on a stream of its own; when that one is answered, every
///   later renewal of the client is made that way. When it is refused too, the renewal itself was invalid.
final class LeaseKeepers: Sendable {
    private struct State {
        var keepers = 0
        /// The shared stream, once a renewal opened it; nil when none is open.
        var stream: Task<LeaseRenewalStream, any Error>?
        /// The server refused the stream but answered a renewal on a stream of its own.
        var streamPerRenewal = false
    }

    private let state = Mutex(State())

    /// A keeper starts renewing.
    func begin() {
        state.withLock { $0.keepers += 1 }
    }

    /// A keeper stopped renewing; the last one half-closes the shared stream, without waiting for it.
    func end() {
        let closing = state.withLock { s -> Task<LeaseRenewalStream, any Error>? in
            s.keepers -= 1
            guard s.keepers == 0 else { return nil }
            defer { s.stream = nil }
            return s.stream
        }
        guard let closing else { return }
        Task { if let stream = try? await closing.value { await stream.close() } }
    }

    /// Renews `holder`'s lease on `key` for another `ttl`, as ``CoordClient/renew(key:holder:ttl:)`` does.
    func renew(key: String, holder: String, ttl: Duration, client: CoordClient) async throws(StreamsError) -> LeaseResult {
        let opening = state.withLock { s -> Task<LeaseRenewalStream, any Error>? in
            if s.streamPerRenewal { return nil }
            if s.stream == nil {
                s.stream = Task { () throws(StreamsError) -> LeaseRenewalStream in try await client.leaseRenewals() }
            }
            return s.stream
        }
        guard let opening else { return try await client.renew(key: key, holder: holder, ttl: ttl) }
        let stream: LeaseRenewalStream
        do {
            stream = try await opening.value
        } catch {
            forget(opening)
            throw error as? StreamsError ?? .internalError("\(error)")
        }
        do {
            return try await stream.renew(key: key, holder: holder, ttl: ttl)
        } catch {
            // A stream still serving refused this renewal alone (it failed validation) or it was cancelled.
            guard let failure = stream.failure else { throw error }
            forget(opening)
            guard failure.name == StreamsError.invalidRequest("").name, !stream.hasAnswered else { throw error }
            let answer = try await client.renew(key: key, holder: holder, ttl: ttl)
            state.withLock { $0.streamPerRenewal = true }
            return answer
        }
    }

    /// Drops `stream` as the shared one, unless another replaced it already; a later renewal opens anew.
    private func forget(_ stream: Task<LeaseRenewalStream, any Error>) {
        state.withLock { s in
            if s.stream == stream { s.stream = nil }
        }
    }
}
