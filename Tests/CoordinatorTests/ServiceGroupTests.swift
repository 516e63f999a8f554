import CoordTestKit
import Foundation
import Coordinator
import CorePrimitives
import StreamCore
import Synchronization
import Testing
import Transport

/// What recording services did, in order.
private final class Journal: Sendable {
    private let entries = Mutex<[String]>([])
    func record(_ entry: String) { entries.withLock { $0.append(entry) } }
    var all: [String] { entries.withLock { $0 } }
}

/// A service that records its start and stop, fails its start when told to, and (when `stubborn`) keeps
/// stopping gracefully until the group cancels it.
private struct RecordingService: Service {
    let name: String
    let journal: Journal
    var failsToStart = false
    var stubborn = false

    func start() async throws(DaemonStartError) {
        if failsToStart {
            journal.record("fail \(name)")
            throw DaemonStartError(.environment, "\(name) refused")
        }
        journal.record("start \(name)")
    }

    func stop(deadline: ContinuousClock.Instant) async {
        if stubborn {
            await Latch().wait()  // never opened: returns only when cancelled
            journal.record(Task.isCancelled ? "stop \(name) at once" : "stop \(name) gracefully")
        } else {
            journal.record("stop \(name)")
        }
    }
}

@Suite struct ServiceGroupTests {
    @Test func servicesStartInOrderAndStopInReverseOnce() async throws {
        let journal = Journal()
        let group = ServiceGroup(["a", "b", "c"].map { RecordingService(name: $0, journal: journal) })
        try await group.start()
        #expect(group.running == ["a", "b", "c"])
        await group.stop(within: .seconds(5))
        await group.stop(within: .seconds(5))
        #expect(journal.all == ["start a", "start b", "start c", "stop c", "stop b", "stop a"])
        #expect(group.running.isEmpty && group.stopped.isOpen)
    }

    @Test(arguments: 0..<4)
    func aFailedStartStopsEveryServiceStartedBeforeItInReverse(failing: Int) async throws {
        let journal = Journal()
        let names = ["a", "b", "c", "d"]
        let group = ServiceGroup(names.enumerated().map { RecordingService(name: $1, journal: journal, failsToStart: $0 == failing) })
        await #expect(throws: DaemonStartError(.environment, "\(names[failing]) refused")) { try await group.start() }
        let started = names[..<failing]
        #expect(journal.all == started.map { "start \($0)" } + ["fail \(names[failing])"] + started.reversed().map { "stop \($0)" })
        #expect(group.running.isEmpty && group.stopped.isOpen)
    }

    @Test func aStopStillRunningAtTheDeadlineIsCancelledAndTheRestStillStop() async throws {
        let journal = Journal()
        let group = ServiceGroup([RecordingService(name: "a", journal: journal),
                                  RecordingService(name: "slow", journal: journal, stubborn: true)])
        try await group.start()
        await group.stop(within: .milliseconds(50))
        #expect(journal.all == ["start a", "start slow", "stop slow at once", "stop a"])
    }

    @Test func ownedTasksAreCancelledAndAwaitedAndRefusedAfterwards() async {
        let tasks = OwnedTasks()
        let ended = Journal()
        for n in 0..<3 {
            tasks.spawn {
                await Latch().wait()
                ended.record("\(n)")
            }
        }
        await tasks.cancelAndWait()
        #expect(ended.all.sorted() == ["0", "1", "2"] && tasks.count == 0)
        #expect(!tasks.spawn { ended.record("late") })
    }

    /// Tasks that end before their spawn has registered them are forgotten all the same.
    @Test func ownedTasksThatEndAtOnceAreForgotten() async {
        let tasks = OwnedTasks()
        for _ in 0..<1_000 { tasks.spawn {} }
        #expect(await eventually { tasks.count == 0 })
        await tasks.cancelAndWait()
        #expect(tasks.count == 0)
    }
}

@Suite struct DaemonRollbackTests {
    @Test(arguments: [false, true])
    func aDaemonWhoseStartFailsLeavesItsPortAndDataDirectoryFree(failEarly: Bool) async throws {
        let scratch = try TemporaryDirectory(prefix: "coordd-rollback")
        defer { scratch.remove() }
        var configuration = DaemonLifecycleTests.configuration(.file, dataDirectory: scratch.path + "/data")
        // The port of a daemon that has stopped: the failing start binds it, the last one binds it again.
        // Below the ephemeral range, so no other test's socket can take it in between.
        configuration.listen.port = try FreePort.belowEphemeralRange()
        let first = try await Daemon.start(configuration, logger: Logger(sink: { _ in }), loopCount: 1)
        #expect(first.localAddress.port == configuration.listen.port)
        await first.shutdown()

        let lines = LineCollector()
        let journal = Journal()
        let injected = RecordingService(name: "injected", journal: journal, failsToStart: true)
        if failEarly {
            // A declared store whose directory is taken by a file: the data directory service fails after
            // taking the lock, before the loops, stores and listener start.
            let blocked = WireUUID(high: 0xB, low: 1)
            configuration.declaredStores = [blocked]
            #expect(FileManager.default.createFile(atPath: scratch.path + "/data/\(blocked)", contents: Data()))
        }
        await #expect(throws: DaemonStartError.self) {
            _ = try await Daemon.start(configuration, logger: Logger(sink: lines.sink), loopCount: 1, extraServices: [injected])
        }
        #expect(journal.all == (failEarly ? [] : ["fail injected"]))
        #expect(!lines.all.contains { $0.contains("msg=listening") }, "never ready")

        configuration.declaredStores = []
        let again = try await Daemon.start(configuration, logger: Logger(sink: { _ in }), loopCount: 1)
        #expect(again.localAddress.port == configuration.listen.port, "the port was released")
        #expect(again.nodes.openNodes.map(\.storeID) == [.defaultStore], "the data directory was unlocked")
        await again.shutdown()
        #expect(again.stopped.isOpen)
    }
}
