@testable import Coordinator
import StreamCore

/// Leases and fenced produces: the steps, and what each answer must agree with in the model. A holder
/// believes it holds a key from a grant until the grant's TTL has passed on the clock (or it released it);
/// the node and that belief must never disagree.
extension NodeSimulation {
    func acquire() async throws {
        let key = pick(shape.keys)
        let holder = pick(shape.holders)
        let ttlMs = between(100, 2_500)
        action = "\(holder) acquires \(key) for \(ttlMs) ms"
        let others = model.liveHolders(of: key, at: nowMs).filter { $0 != holder }
        let result = try await node.leases.acquire(LeaseAcquire(terms: LeaseTerms(key: key, holder: holder, ttlSeconds: 0, ttlMs: ttlMs)))
        guard result.ok else {
            if others.isEmpty { violated("refused (\(result.reason ?? result.message)) though no other holder is live") }
            return
        }
        guard let fence = result.fence else {
            violated("a grant without a fence")
            return
        }
        if !others.isEmpty { violated("granted to \(holder) while \(others) still hold it: two live holders") }
        if let highest = model.highestFence[key] {
            if fence < highest.fence || (highest.holder != holder && fence == highest.fence) {
                violated("fence \(fence) for \(holder) after fence \(highest.fence) went to \(highest.holder)")
            }
        }
        model.highestFence[key] = (holder, fence)
        model.beliefs[key, default: [:]][holder] = SimulationModel.Belief(fence: fence, deadlineMs: nowMs + ttlMs)
    }

    func renewLease() async throws {
        let key = pick(shape.keys)
        let holder = pick(shape.holders)
        let ttlMs = between(100, 2_500)
        action = "\(holder) renews \(key) for \(ttlMs) ms"
        let belief = model.beliefs[key]?[holder]
        let live = belief?.isLive(at: nowMs) == true
        let result = try await node.leases.renew(LeaseRenew(terms: LeaseTerms(key: key, holder: holder, ttlSeconds: 0, ttlMs: ttlMs)))
        if result.ok != live {
            violated("renewal \(result.ok ? "granted" : "refused (\(result.reason ?? result.message))") though the holder's grant is \(live ? "live" : "over")")
        }
        guard result.ok, let belief else { return }
        if result.fence != belief.fence { violated("renewal changed the fence from \(belief.fence) to \(String(describing: result.fence))") }
        // A renewal sets the deadline to its own TTL from now, shorter than before or not.
        model.beliefs[key]?[holder]?.deadlineMs = nowMs + ttlMs
    }

    func release() async throws {
        let key = pick(shape.keys)
        let holder = pick(shape.holders)
        action = "\(holder) releases \(key)"
        let live = model.beliefs[key]?[holder]?.isLive(at: nowMs) == true
        let result = try await node.leases.release(LeaseRelease(key: key, holder: holder))
        if result.ok != live {
            violated("release \(result.ok ? "accepted" : "refused (\(result.reason ?? result.message))") though the holder's grant is \(live ? "live" : "over")")
        }
        if result.ok { model.beliefs[key]?[holder]?.deadlineMs = nowMs }
    }

    /// A holder writes to its key's segment with the fence of its latest grant — live or not: a paused
    /// holder whose lease expired must be refused, a live one accepted.
    func produce() async throws {
        let key = pick(shape.keys)
        guard let (holder, belief) = model.beliefs[key]?.sorted(by: { $0.key < $1.key }).randomElement(using: &random) else {
            action = "no holder has ever held \(key)"
            return
        }
        let count = Int(between(1, 3))
        action = "\(holder) produces \(count) to \(key) with fence \(belief.fence)"
        let live = belief.isLive(at: nowMs)
        let acknowledged = model.acknowledged[key, default: []]
        let records = (0..<count).map { index in
            Record(sequence: UInt64(acknowledged.count + index + 1), payload: Array("\(key)/\(step)/\(index)".utf8))
        }
        let request = AppendRequest(space: Self.space, segment: key, records: records,
                                    precheck: node.leases.fenceCheck(Fence(key: key, token: belief.fence)))
        do throws(StreamsError) {
            _ = try await node.store.append(request)
            if !live { violated("a write with fence \(belief.fence) from \(holder), whose grant is over, was accepted") }
            model.acknowledged[key, default: []] += records.compactMap(\.payload)
        } catch {
            if live { violated("a write from live holder \(holder) with fence \(belief.fence) was refused: \(error)") }
        }
    }
}
