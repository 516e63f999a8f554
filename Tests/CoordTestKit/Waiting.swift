import StreamCore

/// Runs `body` with a deadline so a hang fails the test instead of stalling the suite.
public func withDeadline<T: Sendable>(
    seconds: Double = 10, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            return nil
        }
        guard let first = try await group.next(), let value = first else {
            group.cancelAll()
            throw StreamsError.internalError("deadline of \(seconds) s passed")
        }
        group.cancelAll()
        return value
    }
}

/// Polls `condition` every 10 ms for up to `seconds`; returns whether it became true.
public func eventually(seconds: Double = 10, _ condition: @Sendable () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return await condition()
}

/// Attempts ``retryingTransient(_:)`` makes: a request after a fault or while a store moves between
/// daemons fails transiently for a moment (a pooled connection that PostgreSQL ended, a forwarded stream
/// whose owner changed), as it would for any client, which retries.
public let maxTransientAttempts = 5

/// `body`, tried again (up to ``maxTransientAttempts`` times, 200 ms apart) while it fails transiently.
public func retryingTransient<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
    for _ in 1..<maxTransientAttempts {
        do {
            return try await body()
        } catch let error as StreamsError where error.code == .transient {
            try await Task.sleep(for: .milliseconds(200))
        }
    }
    return try await body()
}
