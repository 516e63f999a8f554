import Coordinator
import CoordTestKit
import Foundation
import Synchronization
import Testing

/// The data directory's lock while this process starts children: a child holds a copy of every
/// descriptor from its spawn until its `exec`, so a lock just released can look held for that moment.
@Suite struct DataDirectoryLockTests {
    @Test func aLockReleasedWhileChildrenStartIsTakenAgainEveryTime() async throws {
        let root = try TemporaryDirectory(prefix: "coordd-lock")
        defer { root.remove() }
        let children = ChildCount()
        // Two threads starting children back to back, as tests starting daemons do.
        let spawners = (0..<2).map { _ in
            Task {
                try await onBlockingThread {
                    while !children.stopped && children.started < 2_000 {
                        _ = try ChildProcess.runBlocking("/bin/true", [])
                        children.add()
                    }
                }
            }
        }
        // Taken and released back to back until 200 children have started meanwhile (at most 60 s).
        let deadline = ContinuousClock.now + .seconds(60)
        var attempts = 0
        var refusals: [String] = []
        while children.started < 200 && ContinuousClock.now < deadline {
            attempts += 1
            do {
                let lock = try DataDirectoryLock.acquire(directory: root.path)
                lock.release()
            } catch {
                refusals.append("\(error)")
            }
        }
        children.stop()
        for spawner in spawners { try await spawner.value }
        #expect(children.started >= 200, "children started meanwhile")
        #expect(refusals.isEmpty, "\(refusals.count) of \(attempts) refused: \(refusals.first ?? "")")
    }

    @Test func aLockHeldIsRefusedNamingItsHolder() throws {
        let root = try TemporaryDirectory(prefix: "coordd-lock")
        defer { root.remove() }
        let held = try DataDirectoryLock.acquire(directory: root.path)
        defer { held.release() }
        do {
            _ = try DataDirectoryLock.acquire(directory: root.path)
            Issue.record("a held lock was taken again")
        } catch {
            #expect("\(error)".contains("in use by another coordd process (pid \(getpid()))"), "\(error)")
        }
    }
}

/// Children started so far, and whether to stop starting them.
private final class ChildCount: Sendable {
    private let count = Atomic<Int>(0)
    private let done = Atomic<Bool>(false)

    func add() { count.add(1, ordering: .relaxed) }
    var started: Int { count.load(ordering: .relaxed) }
    func stop() { done.store(true, ordering: .relaxed) }
    var stopped: Bool { done.load(ordering: .relaxed) }
}
