import CoordClient
import CoordTestKit
import Coordinator
import Inventory
import StreamCore
import Synchronization
import Testing
import Transport

/// Tests that depend on real time passing (TTLs, heartbeats, lease expiry) and the CPU-heavy fan-out and
/// contention tests. They run one at a time, so a heavy test never starves a timing-sensitive one of the
/// machine's two cores; other suites still run beside them.
@Suite(.serialized) struct RealTimeTests {}

extension RealTimeTests {
    @Suite struct PresenceTimingTests {
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
        func withLeaseCancelsTheBodyWhenTheLeaseIsLost(_ configuration: Configuration) async throws {
            let harness = try await Harness(configuration)
            let client = harness.client
            // The store opens first (a PostgreSQL fixture makes its database then), outside the time measured.
            _ = try await client.leases(prefix: "job")
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

    /// `withLease` keepers of one client renew on one shared `lease_renewals` stream.
    @Suite struct SharedRenewalTests {
        @Test(arguments: [Configuration(store: .memory, transport: .webSocket), Configuration(store: .memory, transport: .inProcess)])
        func theLeasesOfOneClientRenewOnOneStreamThatClosesWithTheLastOfThem(_ configuration: Configuration) async throws {
            let harness = try await Harness(configuration)
            let client = harness.client
            let node = try await harness.manager.node(for: harness.store)
            // Three leases of 300 ms kept for at least 1.2 s: four renewal rounds each, or their bodies are
            // cancelled. Each body looks at the open streams, then waits for the others to have looked too, so
            // no release of a lease that ended is counted.
            let looked = SharedCount()
            let seen = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<3 {
                    group.addTask {
                        try await client.withLease(key: "job-\(i)", ttl: .milliseconds(300)) { _ in
                            try await Task.sleep(for: .milliseconds(1_200))
                            let open = node.openStreamCount
                            looked.value.add(1, ordering: .relaxed)
                            #expect(await eventually { looked.value.load(ordering: .relaxed) == 3 })
                            return open
                        }
                    }
                }
                var seen: [Int] = []
                for try await count in group { seen.append(count) }
                return seen
            }
            #expect(seen == [1, 1, 1], "one stream open for all three keepers while they ran: \(seen)")
            #expect(await eventually { node.openStreamCount == 0 }, "the last keeper closed it")
            #expect(try await client.leases(prefix: "job").isEmpty)
            await harness.shutdown()
        }

        /// A streamkit server refuses the stream with the text alone (`type "…" is not registered`).
        @Test func againstAServerWithoutTheRenewalsStreamEachRenewalHasAStreamOfItsOwn() async throws {
            let harness = try await Harness(Configuration(store: .memory, transport: .inProcess))
            let provider = ExtensionlessProvider(harness.provider, refusing: [LeaseRenewals.self], as: .streamkit)
            let client = CoordClient(provider: provider, store: harness.store)
            let fence = try await client.withLease(key: "job", ttl: .milliseconds(300)) { lease in
                try await Task.sleep(for: .milliseconds(1_200))
                return lease.fence
            }
            #expect(fence > 0, "kept through four renewal rounds")
            #expect(provider.opened(LeaseRenewals.self) == 1, "asked for the renewals stream once, then renewed without it")
            #expect(provider.opened(LeaseRenew.self) >= 3)
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

/// A count shared between tasks.
final class SharedCount: Sendable {
    let value = Atomic<Int>(0)
}
