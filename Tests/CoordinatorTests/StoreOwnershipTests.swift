import CoordClient
import CoordTestKit
import Coordinator
import Foundation
import PostgresKit
import StreamCore
import Testing

/// Several daemons on one PostgreSQL database: a store has one owner at a time, a clean shutdown hands it
/// over at once with the next epoch and the leases and fences go on, and an owner that was paused past
/// its TTL gets no write through and steps down.
@Suite(.enabled(if: TestPostgres.available, Comment(rawValue: TestPostgres.skipNotice)))
struct StoreOwnershipTests {
    @Test func aStoreOwnedByOneDaemonIsRefusedByAnotherNamingTheOwner() async throws {
        let (db, a, b) = try await ClusterMember.pair("owned", ttlMs: 10_000)
        defer { Task { await db.drop() } }
        let store = WireUUID.random()
        try await a.client(store).produce(space: "s", segment: "g", records: makeRecords(1))
        do {
            try await b.client(store).produce(space: "s", segment: "g", records: makeRecords(1, from: 2))
            Issue.record("a store owned by node-a was written through node-b")
        } catch {
            #expect(error.name == StreamsError.storeOwnedElsewhereName)
            #expect(error.code == .transient)
            #expect(error.message.contains("owned by coordd node node-a"), "\(error.message)")
            #expect(error.message.contains(ClusterMember.advertiseURL(of: "node-a")), "\(error.message)")
        }
        #expect(a.epoch(of: store) == 1)
        #expect(b.epoch(of: store) == nil)
        // Refusals are not failed opens: the store is not shut out by the open circuit.
        for _ in 0..<4 {
            await #expect(throws: StreamsError.self) { try await b.client(store).peek(space: "s", segment: "g") }
        }
        await a.shutdown()
        // Released at shutdown: node-b takes it over at once, with the next epoch.
        try await b.client(store).produce(space: "s", segment: "g", records: makeRecords(1, from: 2))
        #expect(b.epoch(of: store) == 2)
        #expect(try await ownerRow(store, url: db.url)?.node == "node-b")
        await b.shutdown()
    }

    @Test func aCleanShutdownHandsTheStoreOverWithLeasesAndFencesGoingOn() async throws {
        let (db, a, b) = try await ClusterMember.pair("handover", ttlMs: 10_000)
        defer { Task { await db.drop() } }
        let store = WireUUID.random()
        let first = try await a.client(store).acquire(key: "partition/1", holder: "worker-x", ttl: .seconds(60))
        #expect(first.ok && first.fence == 1)
        try await a.client(store).produce(space: "s", segment: "g", records: makeRecords(3),
                                          fence: Fence(key: "partition/1", token: 1))
        await a.shutdown()

        let client = b.client(store)
        let contender = try await client.acquire(key: "partition/1", holder: "worker-y", ttl: .seconds(60))
        #expect(!contender.ok, "the lease granted under epoch 1 is restored under epoch 2")
        #expect(b.epoch(of: store) == 2)
        #expect(try await client.release(key: "partition/1", holder: "worker-x").ok)
        let next = try await client.acquire(key: "partition/1", holder: "worker-y", ttl: .seconds(60))
        #expect(next.ok && next.fence == 2, "fences continue above every one granted by the earlier owner")
        let statuses = try await client.produce(space: "s", segment: "g", records: makeRecords(1, from: 4),
                                                fence: Fence(key: "partition/1", token: 2))
        #expect(statuses.last?.lastSequence == 4)
        await b.shutdown()
    }

    @Test func aRenewingOwnerKeepsItsStorePastTwoTTLs() async throws {
        // 3 s: a renewal may take up to 2.7 s to commit before the owner steps down, room for a loaded machine.
        let (db, a, b) = try await ClusterMember.pair("renewing", ttlMs: 3_000)
        defer { Task { await db.drop() } }
        let store = WireUUID.random()
        try await a.client(store).produce(space: "s", segment: "g", records: makeRecords(1))
        // More than two TTLs of real time (PostgreSQL's clock is the one that expires it), looked at every 250 ms.
        let until = ContinuousClock.now + .seconds(7)
        var looks = 0
        while ContinuousClock.now < until, looks < 40 {
            looks += 1
            do {
                _ = try await b.client(store).peek(space: "s", segment: "g")
                Issue.record("node-b took over a store node-a renews")
                break
            } catch {
                #expect(error.name == StreamsError.storeOwnedElsewhereName, "\(error.message)")
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(a.epoch(of: store) == 1)
        try await a.client(store).produce(space: "s", segment: "g", records: makeRecords(1, from: 2))
        await a.shutdown()
        await b.shutdown()
    }

    @Test func aStaleOwnerGetsNoWriteThroughAndStepsDown() async throws {
        // node-a's clock stands still: it never renews, as a paused process would not; node-b renews, and its
        // longer TTL keeps the store with it on a loaded machine.
        let (db, a, b) = try await ClusterMember.pair("stale", ttlMs: 1_000, pausingA: true, ttlOfBMs: 10_000)
        defer { Task { await db.drop() } }
        let store = WireUUID.random()
        try await a.client(store).produce(space: "s", segment: "g", records: makeRecords(1))
        #expect(a.epoch(of: store) == 1)
        // Once PostgreSQL's expiry has passed (real time), node-b takes over with epoch 2.
        let taken = await eventually(seconds: 10) {
            (try? await b.client(store).produce(space: "s", segment: "g", records: makeRecords(1, from: 2))) != nil
        }
        #expect(taken)
        #expect(b.epoch(of: store) == 2)
        // node-a still believes it owns the store: its write is refused by the epoch check, nothing is written.
        do {
            try await a.client(store).produce(space: "s", segment: "g", records: [Record(sequence: 3, payload: Array("stale".utf8))])
            Issue.record("a stale owner's write went through")
        } catch {
            #expect(error.name == "storage_error")
            #expect(error.message.contains("no longer owns store \(store) under epoch 1"), "\(error.message)")
        }
        let last = try await b.client(store).peek(space: "s", segment: "g")
        #expect(last.sequence == 2 && last.payload != Array("stale".utf8))
        // And it steps down: the store is closed there, and its next stream finds node-b the owner.
        #expect(await eventually { a.manager.openNodes.isEmpty })
        await #expect(throws: StreamsError.self) { try await a.client(store).peek(space: "s", segment: "g") }
        #expect(try await ownerRow(store, url: db.url)?.node == "node-b")
        await a.shutdown()
        await b.shutdown()
    }

    @Test func anOwnerWhoseSafeDeadlinePassesEndsItsStreamsAndReleases() async throws {
        let (db, a, b) = try await ClusterMember.pair("deadline", ttlMs: 1_000, pausingA: true, ttlOfBMs: 10_000)
        defer { Task { await db.drop() } }
        let store = WireUUID.random()
        try await a.client(store).produce(space: "s", segment: "g", records: makeRecords(1))
        let subscriber = a.client(store)
        let ending = Task { () -> StreamsError? in
            do throws(StreamsError) {
                for try await _ in subscriber.subscribe(space: "s", segment: "g") {}
                return nil
            } catch {
                return error
            }
        }
        #expect(await eventually { (a.manager.openNodes.first?.openStreamCount ?? 0) >= 1 })
        // A pause longer than the TTL, seen at once when the process runs again.
        a.clock?.advance(byMs: 1_000)
        let error = try await withDeadline { [ending] in await ending.value.map { [$0] } ?? [] }.first
        #expect(error?.code == .transient)
        #expect(error?.message.contains("stepped down from store \(store)") == true, "\(String(describing: error))")
        #expect(await eventually { a.manager.openNodes.isEmpty })
        // Its close released the ownership (PostgreSQL had not expired it yet): node-b takes over at once.
        try await b.client(store).produce(space: "s", segment: "g", records: makeRecords(1, from: 2))
        #expect(b.epoch(of: store) == 2)
        await a.shutdown()
        await b.shutdown()
    }
}
