import CoordClient
import CoordTestKit
import Glibc
@testable import Coordinator
import StreamCore
import Testing
import Transport

/// A daemon that does not serve a store forwards its streams to the one that does, for unchanged clients.
@Suite(.serialized) struct ForwardingTests {
    @Test func aClientOfTheFrontUsesTheOwnersStoreForEveryKindOfRequest() async throws {
        let cluster = try await ForwardingCluster.start()
        let provider = try ForwardingCluster.provider(cluster.front)
        let direct = try ForwardingCluster.provider(cluster.owner)
        let client = CoordClient(provider: provider, store: ForwardingCluster.store)
        let atOwner = CoordClient(provider: direct, store: ForwardingCluster.store)

        // Produce, peek and consume through the front; the owner holds the entries.
        try await client.produce(space: "s", segment: "g", records: makeRecords(3))
        #expect(try await client.peek(space: "s", segment: "g").sequence == 3)
        #expect(try await atOwner.peek(space: "s", segment: "g").sequence == 3)
        let entries = try await client.consumeSegment(ConsumeSegment(space: "s", segment: "g")).collect()
        #expect(entries.map(\.sequence) == [1, 2, 3])

        // A lease with its fence: acquired, renewed, used to fence a write, released.
        let acquired = try await client.acquire(key: "job", holder: "h1", ttl: .seconds(30))
        let fence = try #require(acquired.fence)
        #expect(acquired.ok)
        #expect(try await atOwner.leases(prefix: "job").map(\.holder) == ["h1"])
        #expect(try await client.renew(key: "job", holder: "h1", ttl: .seconds(30)).ok)
        try await client.produce(space: "s", segment: "g", records: makeRecords(1, from: 4), fence: Fence(key: "job", token: fence))
        #expect(try await atOwner.peek(space: "s", segment: "g").sequence == 4)
        #expect(try await client.release(key: "job", holder: "h1").ok)
        #expect(try await atOwner.leases(prefix: "job").isEmpty)

        // A worker registered through the front is in the owner's inventory and in the front's observer's.
        let worker = WireUUID(high: 0x77, low: 0x01)
        let registration = try await client.registerWorker(id: worker, metadata: ["via": "front"], heartbeatIntervalMs: 2_000)
        let observer = try await client.workers()
        let ownerObserver = try await atOwner.workers()
        #expect(await Self.sees(worker, in: observer))
        #expect(await Self.sees(worker, in: ownerObserver))
        #expect(cluster.front.cluster.forwarder.forwardedCount >= 2)
        #expect((LargeMessageSuites.ForwardingSlowReaderTests.sample("coordd_forwarded_streams", of: cluster.front) ?? 0) >= 2)
        registration.close()
        observer.close()
        ownerObserver.close()

        // Nothing of the forwarded store was opened on the front.
        #expect(!cluster.front.nodes.openNodes.contains { $0.storeID == ForwardingCluster.store })
        await direct.close()
        await provider.close()
        await cluster.stop()
    }

    @Test func aStreamForAnotherStoreStaysOnTheFront() async throws {
        let cluster = try await ForwardingCluster.start()
        let provider = try ForwardingCluster.provider(cluster.front)
        let client = CoordClient(provider: provider, store: ForwardingCluster.otherStore)
        try await client.produce(space: "s", segment: "g", records: makeRecords(2))
        #expect(try await cluster.front.nodes.node(for: ForwardingCluster.otherStore).storeID == ForwardingCluster.otherStore)
        #expect(!cluster.owner.nodes.openNodes.contains { $0.storeID == ForwardingCluster.otherStore })
        #expect(cluster.front.cluster.forwarder.links.forwardedCount(to: cluster.peer) == 0)
        await provider.close()
        await cluster.stop()
    }

    @Test func aTypedPermanentErrorOfTheOwnerReachesTheClientUnchanged() async throws {
        let cluster = try await ForwardingCluster.start()
        let provider = try ForwardingCluster.provider(cluster.front)
        let client = CoordClient(provider: provider, store: ForwardingCluster.store)
        try await client.produce(space: "s", segment: "g", records: makeRecords(3))
        let refused = await StreamsError.of { try await client.produce(space: "s", segment: "g", records: makeRecords(2, from: 7)) }
        #expect(refused == .sequenceGap(expected: 4, got: 7) && refused?.code == .permanent)
        await provider.close()
        await cluster.stop()
    }

    @Test func closingTheClientsStreamClosesTheForwardedOne() async throws {
        let cluster = try await ForwardingCluster.start()
        let (provider, stream) = try await cluster.subscriptionThroughFront()
        #expect(try await cluster.ownerStreams() == 1)
        stream.close(error: nil)
        #expect(await eventually { (try? await cluster.ownerStreams()) == 0 }, "the owner's stream ended")
        #expect(await eventually { cluster.front.cluster.forwarder.forwardedCount == 0 })
        #expect(cluster.front.cluster.forwarder.links.forwardedCount(to: cluster.peer) == 0)
        await provider.close()
        await cluster.stop()
    }

    @Test func aClientWhoseConnectionIsLostMidProduceCommitsNothingThroughTheFront() async throws {
        let cluster = try await ForwardingCluster.start()
        let atOwner = try ForwardingCluster.provider(cluster.owner)
        let ownerClient = CoordClient(provider: atOwner, store: ForwardingCluster.store)
        let expiry = SystemWallClock().nowMs() / 1_000 + 3_600
        let token = TestJWT.hs256(claims: JWTFixture.claims(exp: expiry), secret: JWTFixture.secret)
        // Several times: the front hears of the lost connection on two paths at once, and a clean end on
        // either would let the owner commit.
        for attempt in 0..<3 {
            let raw = try await RawWebSocket.upgraded(
                port: cluster.front.localAddress.port, headers: [("Authorization", "Bearer \(token)")])
            // A produce whose records are sent but which never ends: the client's connection is lost instead.
            let channel = WireUUID.random()
            let frame = { (payload: [UInt8]) in
                MuxFrame(controlType: .data, storeID: ForwardingCluster.store, channelID: channel, payload: payload)
            }
            let segment = "g\(attempt)"
            try await raw.send([frame(Produce(space: "s", segment: segment).enveloped())] + makeRecords(3).map { frame($0.encoded()) })
            #expect(await eventually { (try? await cluster.owner.nodes.node(for: ForwardingCluster.store).openStreamArrivals) == 4 },
                    "the request and the three records reached the owner")
            Glibc.shutdown(raw.socket.fd, Int32(SHUT_RDWR))

            // The owner's stream ends as the client's did, with an error, not as a produce the client finished.
            #expect(await eventually { (try? await cluster.ownerStreams()) == 0 }, "the owner's stream ended")
            let head = try await ownerClient.peek(space: "s", segment: segment)
            #expect(head.sequence == 0, "\(segment): a produce its client never finished committed nothing")
        }
        await atOwner.close()
        await cluster.stop()
    }

    @Test func stoppingTheOwnerEndsForwardedStreamsWithATransientErrorAndNewOnesFailFast() async throws {
        let cluster = try await ForwardingCluster.start()
        let (provider, stream) = try await cluster.subscriptionThroughFront()
        await cluster.owner.shutdown()
        let ended = await StreamsError.of { _ = try await withDeadline(seconds: 10) { try await stream.receive() } }
        #expect(ended?.name == "store_unavailable" && ended?.code == .transient, "\(String(describing: ended))")
        #expect(ended?.message.contains("node owner at \(cluster.peer.advertiseURL)") == true, "\(String(describing: ended))")

        let client = CoordClient(provider: provider, store: ForwardingCluster.store)
        let refused = await StreamsError.of { _ = try await withDeadline(seconds: 10) { try await client.peek(space: "s", segment: "g") } }
        #expect(refused?.name == "store_unavailable" && refused?.code == .transient, "\(String(describing: refused))")
        #expect(refused?.message.contains("cannot be reached") == true, "\(String(describing: refused))")
        #expect(refused?.message.contains(cluster.peer.advertiseURL) == true, "\(String(describing: refused))")
        await provider.close()
        await cluster.front.shutdown()
        cluster.scratch.remove()
    }

    @Test func aRouteChangeEndsTheStoresForwardedStreams() async throws {
        let cluster = try await ForwardingCluster.start()
        let (provider, stream) = try await cluster.subscriptionThroughFront()
        cluster.router.set(ForwardingCluster.store, to: nil)
        cluster.front.cluster.forwarder.endForwarded(store: ForwardingCluster.store, because: "its owner changed")
        let ended = await StreamsError.of { _ = try await withDeadline(seconds: 10) { try await stream.receive() } }
        #expect(ended == .storeUnavailable(because: "its owner changed"))
        #expect(await eventually { (try? await cluster.ownerStreams()) == 0 })
        // Reopened, the stream is served where the route now says.
        let client = CoordClient(provider: provider, store: ForwardingCluster.store)
        #expect(try await client.peek(space: "s", segment: "g").sequence == 0, "the front's own store is empty")
        #expect(cluster.front.nodes.openNodes.contains { $0.storeID == ForwardingCluster.store })
        await provider.close()
        await cluster.stop()
    }

    @Test func aForwardedStreamIsNeverForwardedAgain() async throws {
        let ownerRouter = StaticStoreRouter()
        let cluster = try await ForwardingCluster.start(ownerRouter: ownerRouter)
        // The two disagree: each says the other serves the store.
        ownerRouter.set(ForwardingCluster.store, to: ClusterPeer(nodeID: "front", advertiseURL: "ws://\(cluster.front.localAddress)"))
        let provider = try ForwardingCluster.provider(cluster.front)
        let client = CoordClient(provider: provider, store: ForwardingCluster.store)
        let refused = await StreamsError.of { _ = try await withDeadline(seconds: 10) { try await client.peek(space: "s", segment: "g") } }
        #expect(refused?.name == "store_unavailable", "\(String(describing: refused))")
        #expect(refused?.message.contains("forwarded at most once") == true, "\(String(describing: refused))")
        await provider.close()
        await cluster.stop()
    }

    @Test func theClientsScopesAreCheckedBeforeForwarding() async throws {
        let cluster = try await ForwardingCluster.start()
        let provider = try ForwardingCluster.provider(cluster.front, scopes: #"["streamkit::\#(ForwardingCluster.otherStore)"]"#)
        let client = CoordClient(provider: provider, store: ForwardingCluster.store)
        let refused = await StreamsError.of { _ = try await client.peek(space: "s", segment: "g") }
        #expect(refused == .accessDenied)
        #expect(cluster.front.cluster.forwarder.forwardedCount == 0)
        await provider.close()
        await cluster.stop()
    }

    /// True once `observer` yields an inventory holding `worker` (at most 50 inventories).
    static func sees(_ worker: WireUUID, in observer: InventoryUpdates) async -> Bool {
        do {
            for try await inventory in observer.prefix(50) where inventory.workers.contains(where: { $0.workerID == worker }) {
                return true
            }
        } catch {}
        return false
    }
}

extension ForwardingTests {
    @Test func streamsPastTheLinksLimitAreRefusedAtOnceAndItsSlotsComeBack() async throws {
        let cluster = try await ForwardingCluster.start()
        var limits = ClusterLimits()
        limits.maxForwardedStreamsPerPeer = 1
        let credential = try ClusterCredential(secret: FileBytes.contents(cluster.scratch.path + "/cluster"))
        let forwarder = StreamForwarder(links: ClusterLinks(nodeID: "test", credential: credential, limits: limits,
                                                             group: { TestNetwork.group }))
        @Sendable func subscribe() async throws(StreamsError) -> InProcessStream {
            let (client, server) = InProcessStream.pair()
            try await client.send(SubscribeToSegmentStatus(space: "s", segment: "g").enveloped())
            try await forwarder.forward(store: ForwardingCluster.store, stream: server, to: cluster.peer)
            return client
        }
        let first = try await subscribe()
        let refused = await StreamsError.of { _ = try await subscribe() }
        #expect(refused?.name == "store_unavailable", "\(String(describing: refused))")
        #expect(refused?.message.contains("ClusterLimits.maxForwardedStreamsPerPeer") == true, "\(String(describing: refused))")
        first.close(error: nil)
        #expect(await eventually { forwarder.links.forwardedCount(to: cluster.peer) == 0 })
        let again = try await subscribe()
        #expect(forwarder.links.forwardedCount(to: cluster.peer) == 1)
        again.close(error: nil)
        await forwarder.stop()
        await cluster.stop()
    }
}

extension ForwardingTests {
    @Test func aWorkerRegisteredThroughTheFrontRegistersAgainWhereTheStoreMoved() async throws {
        let cluster = try await ForwardingCluster.start()
        let provider = try ForwardingCluster.provider(cluster.front)
        let client = CoordClient(provider: provider, store: ForwardingCluster.store)
        let worker = WireUUID(high: 0x77, low: 0x02)
        let registration = try await client.registerWorker(id: worker, heartbeatIntervalMs: 2_000)
        #expect(await eventually { (try? await cluster.ownerStreams()) == 1 })
        // The store moves to the front itself: the forwarded registration ends, and the client reopens it.
        cluster.router.set(ForwardingCluster.store, to: nil)
        cluster.front.cluster.forwarder.endForwarded(store: ForwardingCluster.store, because: "its owner changed")
        let observer = try await client.workers()
        #expect(await Self.sees(worker, in: observer), "the worker registered again on the front's own node")
        #expect(await eventually { (try? await cluster.ownerStreams()) == 0 })
        observer.close()
        registration.close()
        await provider.close()
        await cluster.stop()
    }
}
