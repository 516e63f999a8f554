import StreamCore
import Synchronization

/// The renewals of a client's `withLease` keepers: one `lease_renewals` stream shared by the keepers
/// running, opened by the first renewal and half-closed when the last keeper ends, so a client that keeps
/// many leases opens no stream per renewal and holds none while it keeps nothing.
///
/// - A stream that fails (the connection was lost) fails the renewals waiting on it, which the keepers take
///   as renewals lost on the way; the next renewal opens a new stream.
/// - A server without the extension (an older coordd, a streamkit server) refuses the stream as an unknown
///   request before answering anything. The renewal is then made on a stream of its own, and so is every
///   later renewal of the client.
final class LeaseKeepers: Sendable {
    private struct State {
        var keepers = 0
        /// The shared stream, once a renewal opened it; nil when none is open.
        var stream: LeaseRenewalStream?
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
        let closing = state.withLock { s -> LeaseRenewalStream? in
            s.keepers -= 1
            guard s.keepers == 0 else { return nil }
            defer { s.stream = nil }
            return s.stream
        }
        if let closing { Task { await closing.close() } }
    }

    /// Renews `holder`'s lease on `key` for another `ttl`, as ``CoordClient/renew(key:holder:ttl:)`` does.
    /// Every wait in it ends when the calling task is cancelled.
    func renew(key: String, holder: String, ttl: Duration, client: CoordClient) async throws(StreamsError) -> LeaseResult {
        let (shared, perRenewal) = state.withLock { ($0.stream, $0.streamPerRenewal) }
        if perRenewal { return try await client.renew(key: key, holder: holder, ttl: ttl) }
        let stream: LeaseRenewalStream
        if let shared { stream = shared } else { stream = adopt(try await client.leaseRenewals()) }
        do {
            return try await stream.renew(key: key, holder: holder, ttl: ttl)
        } catch {
            // A stream still serving refused this renewal alone (it failed validation) or it was cancelled.
            guard let failure = stream.failure else { throw error }
            forget(stream)
            guard failure.isUnknownRequest, !stream.hasAnswered else { throw error }
            state.withLock { $0.streamPerRenewal = true }
            return try await client.renew(key: key, holder: holder, ttl: ttl)
        }
    }

    /// Makes `opened` the shared stream, unless another keeper's opening got there first: then that one is
    /// used and `opened` closed.
    private func adopt(_ opened: LeaseRenewalStream) -> LeaseRenewalStream {
        let shared = state.withLock { s -> LeaseRenewalStream in
            if let stream = s.stream { return stream }
            s.stream = opened
            return opened
        }
        if shared !== opened { Task { await opened.close() } }
        return shared
    }

    /// Drops `stream` as the shared one, unless another replaced it already; a later renewal opens anew.
    private func forget(_ stream: LeaseRenewalStream) {
        state.withLock { s in
            if s.stream === stream { s.stream = nil }
        }
    }
}
