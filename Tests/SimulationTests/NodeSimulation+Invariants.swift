@testable import Coordinator
import StreamCore

/// What must hold after every step.
extension NodeSimulation {
    func checkInvariants() async {
        reapEvictedWorkers()
        drainObservers()
        checkRegistry()
        checkLeases()
        await checkAcknowledgedEntries()
    }

    /// Workers the node evicted: each must be past its TTL and told why; their handlers then close them,
    /// as the node's stream handler does.
    private func reapEvictedWorkers() {
        for slot in model.workers.keys.sorted() {
            guard let worker = model.workers[slot], let ending = worker.stream.endedWith else { continue }
            if ending != .presenceExpired { violated("worker \(slot)'s stream ended with \(String(describing: ending))") }
            if worker.deadlineMs > nowMs { violated("worker \(slot) was evicted \(worker.deadlineMs - nowMs) ms before its TTL ran out") }
            node.inventory.close(worker.subscriber)
            model.workers[slot] = nil
        }
    }

    /// The registry holds exactly the workers within their TTL, and every observer's last snapshot is the
    /// registry's current one.
    private func checkRegistry() {
        let current = node.inventory.current
        let registered = current.workers.map { WireUUID($0.id) }
        let expected = model.liveWorkerIDs(at: nowMs)
        if Set(registered) != expected {
            violated("registry holds \(registered.count) workers, \(expected.count) are within their TTL")
        }
        for (index, observer) in model.observers.enumerated() {
            if observer.lastRevision != current.revision || observer.lastWorkers != registered {
                violated("observer \(index) last saw revision \(String(describing: observer.lastRevision)), the registry is at \(current.revision)")
            }
        }
    }

    /// At most one holder per key believes it holds it, and the node lists exactly that holder and fence.
    private func checkLeases() {
        let listed = node.leases.list(prefix: "", limit: 1_000)
        for key in shape.keys {
            let holders = model.liveHolders(of: key, at: nowMs)
            if holders.count > 1 { violated("\(key) has live holders \(holders)") }
            let lease = listed.first { $0.key == key }
            if let holder = holders.first {
                let fence = model.beliefs[key]?[holder]?.fence
                if lease?.holder != holder || lease?.fence != fence {
                    violated("\(key) is listed as \(String(describing: lease?.holder))/\(String(describing: lease?.fence)), its live holder is \(holder)/\(String(describing: fence))")
                }
            } else if let lease {
                violated("\(key) is listed for \(lease.holder) though no grant of it is live")
            }
        }
    }

    /// Every acknowledged record reads back, in order, and nothing else is there.
    private func checkAcknowledgedEntries() async {
        for key in shape.keys {
            let expected = model.acknowledged[key] ?? []
            let range = SegmentRange(fromSequence: 1, toSequence: .max, afterTimestamp: .min, throughTimestamp: .max)
            do throws(StreamsError) {
                let entries = try await node.store.readSegment(space: Self.space, segment: key, range: range, max: expected.count + 10)
                if entries.map(\.sequence) != (0..<UInt64(entries.count)).map({ $0 + 1 }) || entries.map({ $0.payload ?? [] }) != expected {
                    violated("segment \(key) reads \(entries.count) entries, \(expected.count) were acknowledged")
                }
            } catch {
                if !expected.isEmpty { violated("segment \(key) cannot be read: \(error)") }
            }
        }
    }
}
