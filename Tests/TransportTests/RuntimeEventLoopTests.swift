import Dispatch
import Glibc
import StreamCore
import Synchronization
import Testing
@testable import Transport

@Suite struct RuntimeEventLoopTests {
    @Test func executeFromEightThreadsRunsEveryClosureInOrderPerThread() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let threads = 8
        let perThread = 10_000
        let lastSeen = Mutex([Int](repeating: -1, count: threads))
        let outOfOrder = Atomic<Int>(0)
        let offLoop = Atomic<Int>(0)
        let ran = Atomic<Int>(0)

        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let group = DispatchGroup()
            for thread in 0..<threads {
                DispatchQueue(label: "submitter-\(thread)").async(group: group) {
                    for index in 0..<perThread {
                        let accepted = loop.execute {
                            if !loop.inEventLoop { offLoop.add(1, ordering: .relaxed) }
                            lastSeen.withLock { seen in
                                if seen[thread] != index - 1 { outOfOrder.add(1, ordering: .relaxed) }
                                seen[thread] = index
                            }
                            ran.add(1, ordering: .relaxed)
                        }
                        precondition(accepted, "a running loop refused work")
                    }
                }
            }
            group.notify(queue: .global()) { done.resume() }
        }

        let total = threads * perThread
        #expect(await RuntimeTests.waitUntil { ran.load(ordering: .relaxed) == total })
        #expect(ran.load(ordering: .relaxed) == total)
        #expect(outOfOrder.load(ordering: .relaxed) == 0)
        #expect(offLoop.load(ordering: .relaxed) == 0)
    }

    @Test func executeFromTheLoopItselfRunsInALaterTurnNotInline() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let order = Mutex<[String]>([])
        try await loop.perform {
            loop.execute { order.withLock { $0.append("submitted") } }
            order.withLock { $0.append("caller continues") }
        }
        #expect(await RuntimeTests.waitUntil { order.withLock { $0.count } == 2 })
        #expect(order.withLock { $0 } == ["caller continues", "submitted"])
    }

    @Test func workPutOffToTheEndOfTheTurnRunsInTheSameTurnAfterTheCaller() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let order = Mutex<[String]>([])
        try await loop.perform {
            ThreadTurn.atEnd {
                order.withLock { $0.append(loop.inEventLoop ? "end of turn, on the loop" : "end of turn, elsewhere") }
                ThreadTurn.atEnd { order.withLock { $0.append("put off by put-off work") } }
            }
            order.withLock { $0.append("caller continues") }
        }
        #expect(await RuntimeTests.waitUntil { order.withLock { $0.count } == 3 })
        #expect(order.withLock { $0 } == ["caller continues", "end of turn, on the loop", "put off by put-off work"])
        // Off a loop, nothing is put off.
        var here: [String] = []
        ThreadTurn.atEnd { here.append("at once") }
        here.append("after")
        #expect(here == ["at once", "after"])
    }

    @Test func inEventLoopIsTrueOnlyOnTheLoopThread() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        #expect(!loop.inEventLoop)
        #expect(try await loop.perform { loop.inEventLoop })
    }

    @Test func timersFireInDeadlineOrderAndCancelledTimersNeverFire() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let fired = Mutex<[Int]>([])
        try await loop.perform {
            func record(_ index: Int) -> () -> Void { { fired.withLock { $0.append(index) } } }
            // Index: delay in ms. 2 is cancelled at once; 5 is cancelled by 1, which is due just
            // before it, so both may surface in the same pass of the loop.
            var victim: TimerID?
            loop.scheduleTimer(afterMs: 60, record(0))
            loop.scheduleTimer(afterMs: 20) {
                record(1)()
                if let victim { loop.cancelTimer(victim) }
            }
            let cancelled = loop.scheduleTimer(afterMs: 40, record(2))
            loop.scheduleTimer(afterMs: 0, record(3))
            loop.scheduleTimer(afterMs: 30, record(4))
            victim = loop.scheduleTimer(afterMs: 20, record(5))
            loop.cancelTimer(cancelled)
        }
        #expect(await RuntimeTests.waitUntil { fired.withLock { $0.count } >= 4 })
        // Past the latest deadline of the cancelled timers, nothing else may fire.
        try await Task.sleep(for: .milliseconds(100))
        #expect(fired.withLock { $0 } == [3, 1, 4, 0])
    }

    @Test func timerMayBeScheduledFromAnotherTimer() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let fired = Atomic<Int>(0)
        try await loop.perform {
            loop.scheduleTimer(afterMs: 5) {
                fired.add(1, ordering: .relaxed)
                loop.scheduleTimer(afterMs: 5) { fired.add(1, ordering: .relaxed) }
            }
        }
        #expect(await RuntimeTests.waitUntil { fired.load(ordering: .relaxed) == 2 })
    }

    @Test func shutdownStopsTheThreadAndRefusesLaterWork() async throws {
        let loop = try EventLoop()
        let ranBeforeShutdown = Atomic<Bool>(false)
        loop.execute { ranBeforeShutdown.store(true, ordering: .relaxed) }
        await RuntimeTests.offCooperativePool { loop.shutdown() }
        // Work accepted before the shutdown still ran; work offered after is refused.
        let ran = ranBeforeShutdown.load(ordering: .relaxed)
        #expect(ran)
        #expect(loop.execute {} == false)
        await #expect(throws: IOError.self) { try await loop.perform {} }
        // A second shutdown is harmless.
        loop.shutdown()
    }

    @Test func groupHandsOutLoopsRoundRobin() throws {
        let group = try EventLoopGroup(loopCount: 3)
        defer { group.shutdownGracefully(graceMs: 0) }
        let picked = (0..<6).map { _ in ObjectIdentifier(group.next()) }
        let loops = group.loops.map { ObjectIdentifier($0) }
        #expect(picked == loops + loops)
        #expect(EventLoopGroup.defaultLoopCount >= 1)
    }
}
