@testable import Coordinator
import Inventory
import StreamCore

/// Workers and observers: the steps and what each answer tells the model.
extension NodeSimulation {
    func joinWorker() {
        let slot = Int(random.next() % UInt64(shape.workerSlots))
        let id = model.workerIDs[slot]
        let intervalMs = pick([Int64(100), 250, 1_000])
        action = "worker \(slot) joins, heartbeat every \(intervalMs) ms"
        let stream = SimulatedStream()
        let subscriber: InventorySubscriber
        do {
            subscriber = try node.inventory.open(SubscribeWorkers(workerID: id, heartbeatIntervalMs: intervalMs), stream: stream)
        } catch {
            violated("registration refused: \(error)")
            return
        }
        if let earlier = model.workers[slot] {
            // The node ends the earlier stream (replaced, when it was still the worker's); its handler then
            // closes it, as the node's stream handler does.
            if earlier.deadlineMs > nowMs, earlier.stream.endedWith != .some(.workerReplaced) {
                violated("the replaced stream of worker \(slot) ended with \(String(describing: earlier.stream.endedWith))")
            }
            node.inventory.close(earlier.subscriber)
        }
        let renewMs = InventoryLimits.renewIntervalMs(heartbeatPeriodMs: intervalMs)
        let ttlMs = InventoryLimits.ttlMs(renewIntervalMs: renewMs, floorMs: shape.ttlFloorMs)
        model.workers[slot] = SimulationModel.Worker(id: id, subscriber: subscriber, stream: stream, ttlMs: ttlMs,
                                                     deadlineMs: nowMs + ttlMs)
    }

    func renewWorker() {
        guard let slot = model.workers.keys.sorted().randomElement(using: &random), var worker = model.workers[slot] else {
            action = "no worker to renew"
            return
        }
        action = "worker \(slot) renews"
        let live = worker.deadlineMs > nowMs
        let result = node.inventory.renew(worker.subscriber)
        if live != (result == .renewed) {
            violated("worker \(slot) renewal answered \(result) though it is \(live ? "live" : "past its TTL")")
        }
        if result == .renewed {
            worker.deadlineMs = nowMs + worker.ttlMs
            model.workers[slot] = worker
        }
    }

    func closeWorker() {
        guard let slot = model.workers.keys.sorted().randomElement(using: &random), let worker = model.workers[slot] else {
            action = "no worker to close"
            return
        }
        action = "worker \(slot) closes its stream"
        worker.stream.close(error: nil)
        node.inventory.close(worker.subscriber)
        model.workers[slot] = nil
    }

    func openObserver() {
        guard model.observers.count < shape.maxObservers else {
            action = "observers at their limit"
            return
        }
        action = "an observer subscribes"
        let stream = SimulatedStream()
        do {
            let subscriber = try node.inventory.open(SubscribeWorkers(workerID: nil), stream: stream)
            model.observers.append(SimulationModel.Observer(subscriber: subscriber, stream: stream))
        } catch {
            violated("observer refused: \(error)")
        }
    }

    func closeObserver() {
        guard !model.observers.isEmpty else {
            action = "no observer to close"
            return
        }
        let index = Int(random.next() % UInt64(model.observers.count))
        action = "observer \(index) leaves"
        let observer = model.observers.remove(at: index)
        observer.stream.close(error: nil)
        node.inventory.close(observer.subscriber)
    }

    /// Takes what each observer's mailbox holds, as its sender would, checking revisions only increase.
    func drainObservers() {
        for index in model.observers.indices {
            while let bytes = node.inventory.next(for: model.observers[index].subscriber) {
                guard let inventory = try? Envelope.decode(WorkerInventory.self, from: bytes), let revision = inventory.revision else {
                    violated("observer \(index) received something other than a revisioned inventory")
                    return
                }
                if let last = model.observers[index].lastRevision, revision <= last {
                    violated("observer \(index) received revision \(revision) after \(last)")
                }
                model.observers[index].lastRevision = revision
                model.observers[index].lastWorkers = inventory.workers.compactMap(\.workerID)
            }
        }
    }
}
