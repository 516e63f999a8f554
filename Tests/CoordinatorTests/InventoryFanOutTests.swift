@testable import Coordinator
import CoordClient
import CoordTestKit
import Inventory
import StreamCore
import Synchronization
import Testing
import Transport

/// What one observer holds: the membership it believes in and the revision it is at.
final class ObserverView: Sendable {
    struct State {
        var revision: UInt64 = 0
        var members: Set<WireUUID> = []
        var problems: [String] = []
    }

    let state = Mutex(State())

    func apply(_ message: any EnvelopedMessage) {
        state.withLock { s in
            switch message {
            case let inventory as WorkerInventory:
                let revision = inventory.revision ?? 0
                if revision < s.revision { s.problems.append("snapshot \(revision) after \(s.revision)") }
                s.revision = revision
                s.members = Set(inventory.workers.compactMap(\.workerID))
            case let delta as WorkerInventoryDelta:
                if delta.revision != s.revision + 1 { s.problems.append("delta \(delta.revision) after \(s.revision)") }
                s.revision = delta.revision
                for info in delta.joined { if let id = info.workerID { s.members.insert(id) } }
                for id in delta.left { s.members.remove(id) }
            default:
                s.problems.append("unexpected \(type(of: message))")
            }
        }
    }
}

extension RealTimeTests {
    @Suite struct InventoryFanOutTests {
        /// 1,000 observers (half full snapshots, half deltas) while 200 workers join and leave at random: no
        /// observer sees a revision go backwards or a delta gap, all end on the final revision, and what each
        /// holds equals the truth.
        @Test func everyObserverConvergesOnTheTruthUnderChurn() async throws {
            let harness = try await Harness(Configuration(store: .memory, transport: .inProcess))
            // Small stream buffers: a busy observer's mailbox then coalesces to the latest snapshot (or
            // resyncs a delta backlog) instead of queueing every revision, the behaviour under test.
            var small = InProcessLimits()
            small.bufferedMessages = 2
            let provider = harness.manager.inProcessProvider(limits: small)
            let views = (0..<1_000).map { _ in ObserverView() }
            var observers: [any BidiStream] = []
            for (i, view) in views.enumerated() {
                let stream = try await provider.callStream(store: harness.store, request: SubscribeWorkers(workerID: nil, deltas: i % 2 == 1))
                observers.append(stream)
                Task {
                    while let bytes = try? await stream.receive(), let message = try? Envelope.decode(bytes) { view.apply(message) }
                }
            }
            let seed = SplitMix64.seedFromEnvironment()
            var rng = SplitMix64(seed: seed)
            let ids = (0..<200).map { _ in WireUUID.random(using: &rng) }
            var workers: [WireUUID: any BidiStream] = [:]
            for _ in 0..<400 {
                let id = ids[Int(rng.next() % 200)]
                if let stream = workers.removeValue(forKey: id) {
                    stream.close(error: nil)
                } else {
                    workers[id] = try await provider.callStream(store: harness.store, request: SubscribeWorkers(workerID: id))
                }
            }
            let truth = Set(workers.keys)
            let node = try await harness.manager.node(for: harness.store)
            // Closing a stream leaves the inventory when its handler ends: wait until the registry matches.
            #expect(await eventually(seconds: 30) { Set(node.inventory.current.workers.map { WireUUID($0.id) }) == truth })
            let final = node.inventory.current.revision
            #expect(await eventually(seconds: 60) { views.allSatisfy { $0.state.withLock { $0.revision } == final } },
                    "seed \(seed): every observer reaches revision \(final)")
            // One issue for all observers: which ones are wrong, and the first problems seen.
            let states = views.map { view in view.state.withLock { $0 } }
            let troubled = states.indices.filter { !states[$0].problems.isEmpty }
            let wrong = states.indices.filter { states[$0].members != truth }
            #expect(troubled.isEmpty, "seed \(seed): observers \(troubled.prefix(10)) saw problems, the first: \(troubled.first.map { states[$0].problems.prefix(3) } ?? [])")
            #expect(wrong.isEmpty, "seed \(seed): \(wrong.count) observers hold the wrong membership (the first: \(wrong.prefix(10)), at revisions \(wrong.prefix(10).map { states[$0].revision }))")
            for stream in observers { stream.close(error: nil) }
            await harness.shutdown()
        }

        /// A subscriber that never reads neither slows the others nor grows past its mailbox bound.
        @Test func aSubscriberThatNeverReadsStaysBoundedAndDoesNotSlowOthers() async throws {
            var configuration = NodeConfiguration()
            configuration.inventory.engine = InventoryLimits(maxSubscriberBacklog: 8)
            let harness = try await Harness(Configuration(store: .memory, transport: .inProcess), node: configuration)
            let stalled = try await harness.provider.callStream(store: harness.store, request: SubscribeWorkers(workerID: nil, deltas: true))
            let reader = WorkerStream(stream: try await harness.provider.callStream(
                store: harness.store, request: SubscribeWorkers(workerID: nil, deltas: true)))
            #expect(try await reader.next() is WorkerInventory)
            var workers: [any BidiStream] = []
            for revision in 1...300 {
                workers.append(try await harness.provider.callStream(store: harness.store, request: SubscribeWorkers(workerID: .random())))
                let delta = try #require(try await reader.next(seconds: 5) as? WorkerInventoryDelta)
                #expect(delta.revision == UInt64(revision))
            }
            let node = try await harness.manager.node(for: harness.store)
            #expect(node.inventory.largestBacklog <= 9, "mailbox bound is maxSubscriberBacklog (+1 held snapshot)")
            // The stalled subscriber, when it finally reads, is resynchronised: never a gap.
            let view = ObserverView()
            for _ in 0..<200 {
                guard let bytes = try await withDeadline(seconds: 5, { try await stalled.receive() }) else { break }
                view.apply(try Envelope.decode(bytes))
                if view.state.withLock({ $0.revision }) == 300 { break }
            }
            let state = view.state.withLock { $0 }
            #expect(state.revision == 300 && state.members.count == 300)
            #expect(state.problems.filter { !$0.hasPrefix("snapshot") }.isEmpty, "\(state.problems)")
            await harness.shutdown()
        }

        /// Over the network, changes are delivered on the connection's loop; an observer that stops reading
        /// backs its connection up, and what the loop cannot send then waits in its sender task. When it
        /// reads again it gets every delta in order (or a snapshot that resynchronises it), never a gap.
        @Test func anObserverWhoseConnectionBacksUpGetsEveryDeltaInOrderLater() async throws {
            let harness = try await Harness(Configuration(store: .memory, transport: .webSocket))
            let port = try #require(harness.server?.port)
            let observer = try await RawWebSocket.upgraded(port: port, receiveBufferBytes: 4_096)
            let channel = WireUUID.random()
            try await observer.send(MuxFrame(controlType: .data, storeID: harness.store, channelID: channel,
                                             payload: SubscribeWorkers(workerID: nil, deltas: true).enveloped()))
            let view = ObserverView()
            let first = try #require(try await observer.nextMuxFrame()?.payload)
            view.apply(try Envelope.decode(first))
            // 2 KB of metadata per worker: 1,500 joins are 4 MB of deltas, past every buffer on the way.
            let metadata = Dictionary(uniqueKeysWithValues: (0..<8).map { ("label-\($0)", String(repeating: "x", count: 250)) })
            var workers: [any BidiStream] = []
            for _ in 0..<1_500 {
                workers.append(try await harness.provider.callStream(
                    store: harness.store, request: SubscribeWorkers(workerID: .random(), metadata: metadata, presenceOnly: true)))
            }
            let node = try await harness.manager.node(for: harness.store)
            #expect(await eventually(seconds: 30) { node.inventory.current.workers.count == 1_500 })
            let final = node.inventory.current.revision
            for _ in 0..<3_000 where view.state.withLock({ $0.revision }) < final {
                guard let frame = try await observer.nextMuxFrame(timeoutMs: 10_000), let payload = frame.payload else { break }
                view.apply(try Envelope.decode(payload))
            }
            let state = view.state.withLock { $0 }
            #expect(state.revision == final && state.members.count == 1_500, "at \(state.revision) of \(final)")
            #expect(state.problems.isEmpty, "\(state.problems.prefix(5))")
            for worker in workers { worker.close(error: nil) }
            await harness.shutdown()
        }
    }
}