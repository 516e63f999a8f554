@testable import Coordinator
import StreamCore

/// What the simulated clients know, from the answers they got: the reference the node is checked against.
struct SimulationModel {
    /// A registered worker as its client knows it.
    struct Worker {
        var id: WireUUID
        var subscriber: InventorySubscriber
        var stream: SimulatedStream
        var ttlMs: Int64
        /// Monotonic ms; the worker is live while the clock reads less.
        var deadlineMs: Int64
    }

    /// An inventory observer and the last snapshot it received.
    struct Observer {
        var subscriber: InventorySubscriber
        var stream: SimulatedStream
        var lastRevision: UInt64?
        var lastWorkers: [WireUUID] = []
    }

    /// What one holder believes about one key: it holds it with `fence` until `deadlineMs` (monotonic),
    /// unless it released it.
    struct Belief {
        var fence: UInt64
        var deadlineMs: Int64

        func isLive(at nowMs: Int64) -> Bool { nowMs < deadlineMs }
    }

    /// Worker slots (a slot's worker keeps its id across rejoins).
    var workers: [Int: Worker] = [:]
    /// Worker ids by slot, fixed for the run.
    var workerIDs: [WireUUID] = []
    var observers: [Observer] = []
    /// key → holder → belief.
    var beliefs: [String: [String: Belief]] = [:]
    /// key → the highest fence granted and to whom.
    var highestFence: [String: (holder: String, fence: UInt64)] = [:]
    /// segment → the payloads of every acknowledged record, in order.
    var acknowledged: [String: [[UInt8]]] = [:]

    /// Ids of the workers that should be registered at `nowMs`.
    func liveWorkerIDs(at nowMs: Int64) -> Set<WireUUID> {
        Set(workers.values.filter { $0.deadlineMs > nowMs }.map(\.id))
    }

    /// The holders of `key` that believe they hold it at `nowMs`.
    func liveHolders(of key: String, at nowMs: Int64) -> [String] {
        (beliefs[key] ?? [:]).filter { $0.value.isLive(at: nowMs) }.map(\.key).sorted()
    }
}
