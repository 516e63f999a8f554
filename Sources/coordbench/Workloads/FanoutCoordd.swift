import CoordBenchKit
import CoordClient
import Foundation
import StreamCore
import Synchronization
import Transport

/// A counter shared between tasks.
final class Counter: Sendable {
    private let count = Atomic<Int>(0)

    func increment() { count.add(1, ordering: .relaxed) }
    func add(_ value: Int) { count.add(value, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}

/// A worker registered on a raw stream: it drains what the server sends (every worker is also an
/// observer of the inventory) without decoding it, and renews its presence every interval. Decoding
/// each snapshot in every worker would cost the client more than the server.
final class RawWorker: Sendable {
    let stream: any BidiStream
    private let reader: Task<StreamsError?, Never>
    private let renewer: Task<Void, Never>
    private let renewalCount = Counter()

    /// Registers `id` on `provider`, receiving the inventory as deltas after the first snapshot when
    /// `deltas` is set, or no inventory at all when `presenceOnly` is (coordd's extensions; streamkit
    /// workers get every snapshot); `first` receives the first message (the inventory that holds the
    /// worker, or the Presence acknowledging a presence-only one) when given.
    init(provider: any StreamProvider, store: WireUUID, id: WireUUID, metadata: [String: String], heartbeatMs: Int64,
         deltas: Bool = false, presenceOnly: Bool = false, first: (@Sendable ([UInt8]) -> Void)? = nil) async throws {
        let request = SubscribeWorkers(
            workerID: id, metadata: metadata, heartbeatIntervalSeconds: (heartbeatMs + 999) / 1_000,
            heartbeatIntervalMs: heartbeatMs % 1_000 == 0 ? nil : heartbeatMs, deltas: deltas, presenceOnly: presenceOnly)
        let stream = try await provider.callStream(store: store, request: request)
        self.stream = stream
        let renewalCount = self.renewalCount
        reader = Task {
            do throws(StreamsError) {
                var first = first
                while let message = try await stream.receive() {
                    first?(message)
                    first = nil
                }
                return nil
            } catch {
                return error
            }
        }
        renewer = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(heartbeatMs))
                if Task.isCancelled { return }
                do {
                    try await stream.sendEnveloped(Presence(workerID: id, heartbeat: false, timestamp: SystemWallClock().nowMs()))
                    renewalCount.increment()
                } catch {
                    return
                }
            }
        }
    }

    /// Deregisters (closes the stream).
    func close() {
        renewer.cancel()
        stream.close(error: nil)
    }

    /// Waits for the stream to end; the error it ended with (nil after ``close()``).
    func ended() async -> StreamsError? { await reader.value }

    /// Renewals sent so far.
    var renewals: Int { renewalCount.value }

    /// True while the server keeps the worker's stream open.
    var isOpen: Bool { !stream.isClosed }
}

/// Fan-out on coordd: M workers registered on a few shared connections, N observers each on its own
/// connection (`SubscribeWorkers` without a worker id), and a changer that registers and deregisters
/// one more worker on its own connection. In the snapshots variant the workers are streamkit's workers,
/// each an observer too. In the deltas variant (coordd's extension) they are `presence_only` workers,
/// which receive no inventory, as the peers' workers (keys, hash fields) receive nothing: the change
/// goes to the N observers only, as it does on the peers; the observers and the changer ask for deltas.
struct CoorddFanout: FanoutSystem {
    let environment: BenchEnvironment
    let variant: FanoutVariant
    let store: WireUUID
    let workers: [RawWorker]
    let connections: [CoorddConnection]

    static func prepare(_ environment: BenchEnvironment, variant: FanoutVariant, closers: Closers) async throws -> CoorddFanout {
        let store = environment.workloadStore()
        let target = environment.coorddTarget
        var connections: [CoorddConnection] = []
        var workers: [RawWorker] = []
        do {
            for _ in 0..<environment.sizes.workerConnections {
                let connection = try await target.connect()
                closers.add(connection.close)
                connections.append(connection)
            }
            for index in 0..<variant.workers {
                let connection = connections[index % connections.count]
                workers.append(try await RawWorker(
                    provider: connection.provider, store: store, id: WireUUID(PeerInventory.workerID(index))!,
                    metadata: PeerInventory.metadata(index), heartbeatMs: 30_000, presenceOnly: variant.deltas))
            }
            // Every join is one revision: the store holds all workers once a new observer's first
            // inventory is at revision M.
            let (client, probe) = try await target.client(store: store)
            closers.add(probe.close)
            defer { probe.close() }
            let deadline = ContinuousClock.now + .seconds(30)
            while true {
                let stream = try await client.open(SubscribeWorkers(workerID: nil))
                let first = try await stream.receive()
                stream.close(error: nil)
                if let first, let revision = MarkerScan.lastRevision(first), revision >= UInt64(variant.workers) { break }
                guard ContinuousClock.now < deadline else { throw PeerError("coordd did not register \(variant.workers) workers in 30 s") }
                try await Task.sleep(for: .milliseconds(20))
            }
        } catch {
            for worker in workers { worker.close() }
            for connection in connections { connection.close() }
            throw error
        }
        return CoorddFanout(environment: environment, variant: variant, store: store, workers: workers, connections: connections)
    }

    func makeObserver(_ index: Int) async throws -> any FanoutObserver {
        let connection = try await environment.observerTarget.connect()
        do {
            let stream = try await connection.provider.callStream(store: store, request: SubscribeWorkers(workerID: nil, deltas: variant.deltas))
            guard let first = try await stream.receive(), MarkerScan.lastRevision(first) != nil else {
                throw PeerError("coordd observer \(index): no inventory")
            }
            return CoorddObserver(stream: stream, connection: connection)
        } catch {
            connection.close()
            throw error
        }
    }

    func makeChanger() async throws -> any FanoutChanger {
        CoorddChanger(connection: try await environment.coorddTarget.connect(), fanout: self)
    }

    func tearDown() async {
        for worker in workers { worker.close() }
        for connection in connections { connection.close() }
    }
}

final class CoorddObserver: FanoutObserver {
    private let stream: any BidiStream
    let closer: @Sendable () -> Void
    var eventLoop: EventLoop? { stream.eventLoop }

    init(stream: any BidiStream, connection: CoorddConnection) {
        self.stream = stream
        closer = {
            stream.close(error: nil)
            connection.close()
        }
    }

    func next() async throws -> UInt64? {
        while let message = try await stream.receive() {
            if let revision = MarkerScan.lastRevision(message) { return revision }
        }
        return nil
    }
}

/// Joins register one more worker and wait for the first inventory on its stream (the server's
/// acknowledgement: the inventory that holds it); leaves close that worker's stream, which the
/// protocol does not acknowledge, so a leave's acknowledgement is the moment it was sent and its
/// revision the join's + 1.
final class CoorddChanger: FanoutChanger {
    private let connection: CoorddConnection
    private let fanout: CoorddFanout
    private var joined: RawWorker?
    private var lastMarker: UInt64 = 0
    var closer: @Sendable () -> Void { connection.close }

    /// Longest wait for the inventory that acknowledges a join.
    static let joinTimeoutSeconds = 10.0

    init(connection: CoorddConnection, fanout: CoorddFanout) {
        self.connection = connection
        self.fanout = fanout
    }

    func change(_ k: Int) async throws -> (marker: UInt64, acknowledged: ContinuousClock.Instant) {
        if let worker = joined {
            worker.close()
            joined = nil
            lastMarker += 1
            return (lastMarker, ContinuousClock.now)
        }
        let index = fanout.variant.workers + k / 2
        let arrival = Mutex<(revision: UInt64, at: ContinuousClock.Instant)?>(nil)
        let signal = Wakeup()
        let worker = try await RawWorker(
            provider: connection.provider, store: fanout.store, id: WireUUID(PeerInventory.workerID(index))!,
            metadata: PeerInventory.metadata(index), heartbeatMs: 30_000, deltas: fanout.variant.deltas
        ) { message in
            arrival.withLock { $0 = (MarkerScan.lastRevision(message) ?? 0, ContinuousClock.now) }
            signal.signal()
        }
        joined = worker
        let deadline = ContinuousClock.now + .seconds(Self.joinTimeoutSeconds)
        // Wakes the wait below at the deadline when no inventory came.
        let alarm = Task {
            try? await Task.sleep(until: deadline)
            signal.signal()
        }
        defer { alarm.cancel() }
        while true {
            if let (revision, at) = arrival.withLock({ $0 }) {
                lastMarker = revision
                return (revision, at)
            }
            guard worker.isOpen, ContinuousClock.now < deadline else {
                throw PeerError("coordd did not acknowledge a join in \(Self.joinTimeoutSeconds) s")
            }
            await signal.wait()
        }
    }

    func close() async {
        joined?.close()
        connection.close()
    }
}
