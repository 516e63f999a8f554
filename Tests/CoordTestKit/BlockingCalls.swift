import Foundation

/// Runs `body`, which blocks (a child process, a socket read, opening a store that replays and flushes
/// files), on a thread of its own and waits for it without holding a thread of the concurrency pool:
/// blocking one of its threads (two on a two-core machine) stalls every other test of the process
/// meanwhile. A thread of its own rather than Dispatch's shared queues, whose threads are as few as the
/// cores when they are all busy.
public func onBlockingThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.name = "coordd-test-blocking"
        thread.start()
    }
}
