import CoordClient
import CoordTestKit
import Coordinator
import Inventory
import StreamCore
import Testing
import Transport

/// Tests that depend on real time passing (TTLs, heartbeats, lease expiry) and the CPU-heavy fan-out and
/// contention tests. They run one at a time, so a heavy test never starves a timing-sensitive one of the
/// machine's two cores; other suites still run beside them.
@Suite(.serialized) struct RealTimeTests {}

extension RealTimeTests {
    @Suite struct PresenceTimingTests {
        @Test(arguments: Configuration.all)
        func aStaleWorkerIsEvictedAndItsStreamIsToldWhy(_ configuration: Configuration) async throws {
            let harness = try await Harness(configuration, node: fastPresence())
            let observer = try await WorkerStream.open(harness, SubscribeWorkers(workerID: nil))
            _ = try await observer.inventory()
            let id = WireUUID.random()
            let silent = try await WorkerStream.open(harness, SubscribeWorkers(workerID: id, heartbeatIntervalMs: 100))
            #expect(ids(try await observer.inventory()) == [id])
            let evicted = try await observer.inventory(seconds: 3)
            #expect(evicted.workers.isEmpty)
            var ending: StreamsError?
            for _ in 0..<100 {
                do {
                    guard try await silent.next() != nil else { break }
                } catch let error as StreamsError {
                    ending = error
                    break
                }
            }
            #expect(ending == .presenceExpired && ending?.code == .permanent)
            await harness.shutdown()
        }

        @Test func aRegistrationFailsWhenNothingArrivesForThreeIntervals() async throws {
            // A server that accepts the stream and then says nothing at all.
            let silentServer = InProcessProvider { _, stream throws(StreamsError) in
                Task { while (try? await stream.receive()) != nil {} }
            }
            let client = CoordClient(provider: silentServer, store: .random())
            let started = ContinuousClock.now
            let registration = try await client.registerWorker(id: .random(), heartbeatIntervalMs: 100)
            let ending = await registration.waitUntilEnded()
            #expect(ending?.name == "stream_closed" && ending?.message.hasPrefix("worker heartbeat lost") == true, "\(String(describing: ending))")
            #expect(ContinuousClock.now - started < .seconds(10), "well before any default timeout")
        }

        @Test(arguments: Configuration.all)
        func workersGetPresenceHeartbeatsObserversDoNot(_ configuration: Configuration) async throws {
            let harness = try await Harness(configuration)
            let id = WireUUID.random()
            let worker = try await WorkerStream.open(harness, SubscribeWorkers(workerID: id, heartbeatIntervalSeconds: 1))
            var sawHeartbeat = false
            for _ in 0..<3 {
                if let presence = try await worker.next() as? Presence {
                    #expect(presence.heartbeat && presence.workerID == id && presence.timestamp == harness.wallClock.nowMs())
                    sawHeartbeat = true
                    break
                }
            }
            #expect(sawHeartbeat)
            let observer = try await WorkerStream.open(harness, SubscribeWorkers(workerID: nil, heartbeatIntervalSeconds: 1))
            #expect(try await observer.next() is WorkerInventory)
            await #expect(throws: StreamsError.self) { _ = try await observer.next(seconds: 1.3) }
            await harness.shutdown()
        }

        @Test(arguments: Configuration.all)
        func aPresenceOnlyWorkerGetsItsAcknowledgementThenPeriodicHeartbeats(_ configuration: Configuration) async throws {
            let harness = try await Harness(configuration)
            let id = WireUUID.random()
            let worker = try await WorkerStream.open(
                harness, SubscribeWorkers(workerID: id, heartbeatIntervalMs: 100, presenceOnly: true))
            let started = ContinuousClock.now
            // The acknowledgement and then one heartbeat per 100 ms period, from the store's timer task.
            for _ in 0..<4 {
                let presence = try #require(try await worker.next(seconds: 5) as? Presence)
                #expect(presence.heartbeat && presence.workerID == id)
            }
            #expect(ContinuousClock.now - started >= .milliseconds(250), "three periods passed between them")
            worker.stream.close(error: nil)
            await harness.shutdown()
        }
    }

    @Suite struct LeaseTimingTests {
        @Test(arguments: Configuration.all)
        func aLeaseExpiresOnTheServersClockAndANewHolderGetsAHigherToken(_ configuration: Configuration) async throws {
            let harness = try await Harness(configuration)
            let client = harness.client
            let first = try await client.acquire(key: "k", holder: "a", ttl: .milliseconds(100))
            #expect(await eventually { (try? await client.acquire(key: "k", holder: "b", ttl: .seconds(5)))?.ok == true })
            let listed = try await client.leases(prefix: "k")
            #expect(listed.map(\.holder) == ["b"] && listed[0].fence > first.fence!)
            #expect(!(try await client.renew(key: "k", holder: "a", ttl: .seconds(1)).ok))
            await harness.shutdown()
        }

        @Test(arguments: Configuration.all)
        func aPresenceBoundLeaseEndsWhenItsWorkerIsEvicted(_ configuration: Configuration) async throws {
            let harness = try await Harness(configuration, node: fastPresence())
            let id = WireUUID.random()
            // A worker that registers and then never renews: evicted after its 1.5 s TTL.
            let silent = try await WorkerStream.open(harness, SubscribeWorkers(workerID: id, heartbeatIntervalMs: 500))
            _ = try await silent.inventory()
            let bound = try await harness.client.acquire(key: "k", holder: "w", ttl: .seconds(60), workerID: id)
            #expect(bound.ok)
            #expect(await eventually(seconds: 6) { (try? await harness.client.leases())?.isEmpty == true })
            #expect(try await harness.client.status().workers == 0)
            await harness.shutdown()
        }

        @Test(arguments: Configuration.all)
        func aFencedProduceIsRefusedAfterATakeoverAndAcceptedWithTheNewToken(_ configuration: Configuration) async throws {
            let harness = try await Harness(configuration)
            let client = harness.client
            await #expect(throws: StreamsError.self) {
                try await client.produce(space: "s", segment: "g", records: makeRecords(1), fence: Fence(key: "k", token: 1))
            }
            let old = try await client.acquire(key: "k", holder: "old", ttl: .seconds(1))
            let oldFence = Fence(key: "k", token: old.fence!)
            try await client.produce(space: "s", segment: "g", records: makeRecords(1), fence: oldFence)
            // The old holder pauses and its lease expires; a new holder takes over.
            #expect(await eventually(seconds: 6) { (try? await client.acquire(key: "k", holder: "new", ttl: .seconds(30)))?.ok == true })
            let new = try #require(try await client.leases(prefix: "k").first)
            do throws(StreamsError) {
                try await client.produce(space: "s", segment: "g", records: makeRecords(1, from: 2), fence: oldFence)
                Issue.record("the paused old holder must not write")
            } catch {
                #expect(error.name == "fence_mismatch" && error.code == .permanent)
                #expect(error.message.contains("stale") || error.message.contains("current"), "\(error.message)")
            }
            try await client.produce(space: "s", segment: "g", records: makeRecords(1, from: 2),
                                     fence: Fence(key: "k", token: new.fence))
            #expect(try await client.peek(space: "s", segment: "g").sequence == 2, "the refused write left nothing")
            await harness.shutdown()
        }

        @Test(arguments: Configuration.all)
        func withLeaseCancelsTheBodyWhenTheLeaseIsLost(_ configuration: Configuration) async throws {
            let harness = try await Harness(configuration)
            let client = harness.client
            let started = ContinuousClock.now
            do {
                _ = try await client.withLease(key: "job", ttl: .milliseconds(300)) { lease in
                    // Someone releases the lease behind the holder's back: the next renewal is refused.
                    _ = try await client.release(key: lease.key, holder: lease.holder)
                    try await Task.sleep(for: .seconds(10))
                    return 0
                }
                Issue.record("the body must be cancelled")
            } catch let error as CoordError {
                guard case .leaseLost(let key, _) = error else {
                    Issue.record("expected leaseLost, got \(error)")
                    return
                }
                #expect(key == "job" && error.name == "lease_lost")
            }
            #expect(ContinuousClock.now - started < .seconds(2))
            await harness.shutdown()
        }
    }

    @Suite struct SubscriptionTimingTests {
        @Test(arguments: Configuration.all)
        func heartbeatsArriveAtOnceWithTheWildcardMarker(_ configuration: Configuration) async throws {
            let harness = try await Harness(configuration)
            let stream = try await harness.client.open(SubscribeToSegmentStatus(space: "s", segment: "*", heartbeatIntervalSeconds: 1))
            let beat = try #require(try await StatusReader(stream: stream).next(seconds: 1))
            #expect(beat == SegmentStatus(space: "s", segment: "*", heartbeat: true))
            stream.close(error: nil)
            await harness.shutdown()
        }
    }
}
