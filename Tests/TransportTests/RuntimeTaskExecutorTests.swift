import Dispatch
import Synchronization
import Testing
@testable import Transport

@Suite struct RuntimeTaskExecutorTests {
    @Test func aTaskThatPrefersTheLoopRunsOnItsThreadAfterEverySuspension() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let onLoop = Mutex<[Bool]?>(nil)
        // Awaited with a bound, not joined: a job the loop lost must fail the test, not hang it.
        Task(executorPreference: loop) {
            var seen = [loop.inEventLoop]
            // Resumed from a thread of its own, as a stream's bytes or a log's commit would wake it.
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                DispatchQueue(label: "resumer").async { continuation.resume() }
            }
            seen.append(loop.inEventLoop)
            await Task.yield()
            seen.append(loop.inEventLoop)
            onLoop.withLock { $0 = seen }
        }
        #expect(await RuntimeTests.waitUntil { onLoop.withLock { $0 != nil } })
        #expect(onLoop.withLock { $0 } == [true, true, true])
    }

    @Test func aResumedTaskWaitsItsTurnInTheLoopsQueue() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let order = Mutex<[String]>([])
        let parked = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let release = DispatchSemaphore(value: 0)
        Task(executorPreference: loop) {
            await withCheckedContinuation { continuation in parked.withLock { $0 = continuation } }
            order.withLock { $0.append("resumed") }
        }
        #expect(await RuntimeTests.waitUntil { parked.withLock { $0 != nil } })
        // The loop is busy; the task resumed now must run after that work and before what comes next.
        loop.execute {
            release.wait()
            order.withLock { $0.append("busy work done") }
        }
        parked.withLock { $0 }?.resume()
        loop.execute { order.withLock { $0.append("later work") } }
        release.signal()
        #expect(await RuntimeTests.waitUntil { order.withLock { $0.count } == 3 })
        #expect(order.withLock { $0 } == ["busy work done", "resumed", "later work"])
    }

    @Test func aTaskWhoseLoopStoppedFinishesElsewhere() async throws {
        let loop = try EventLoop()
        let parked = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let finishedOnLoop = Mutex<Bool?>(nil)
        Task(executorPreference: loop) {
            await withCheckedContinuation { continuation in parked.withLock { $0 = continuation } }
            finishedOnLoop.withLock { $0 = loop.inEventLoop }
        }
        #expect(await RuntimeTests.waitUntil { parked.withLock { $0 != nil } })
        loop.shutdown()
        parked.withLock { $0 }?.resume()
        #expect(await RuntimeTests.waitUntil { finishedOnLoop.withLock { $0 != nil } })
        #expect(finishedOnLoop.withLock { $0 } == false)
    }
}
