import Dispatch

/// Runs `body`, which blocks (opening a store replays and flushes files), on a Dispatch thread and waits
/// for it without holding a thread of the concurrency pool: blocking one of its threads (two on a
/// two-core machine) stalls every other test of the process meanwhile.
public func onBlockingThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}
