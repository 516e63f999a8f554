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
