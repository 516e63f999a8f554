import CoordClient
import CoordTestKit
import Foundation
import StreamCore
import Synchronization
import Testing

/// Load on a ``ClusterProcesses`` that outlives any one daemon: producers (one segment each) and lease
/// contenders (all on one key), each starting on a daemon of its own and moving to the next running one
/// after a failure. What the servers acknowledged is recorded, and so is anything that must never happen.
///
/// Producers retry a failed chunk with the same sequence numbers; a chunk whose answer was lost but which
/// committed is then refused with `sequence_gap`, and the segment's head says how far it got.
///
/// Contenders hold the lease for one fenced write each: after a grant, the holder appends `holder fence`
/// to the history segment with its fence, then releases. The lease's TTL (60 s) outlasts every hold by
/// far, so only a release ends a hold: a fenced write refused while its holder holds the lease means the
/// server let two holders overlap (or lost a lease), whatever the timers of this process do.
final class ClusterLoad: Sendable {
    static let space = "orders"
    static let leaseKey = "history"
    static let historySegment = "lease-history"
    static let leaseTTL = Duration.seconds(60)
    /// A holder stops trying its write this long after asking for the lease: past it the lease could have
    /// expired (by a margin no scheduling delay reaches), and a refusal would prove nothing.
    static let holdLimit = Duration.seconds(30)
    static let recordsPerChunk: UInt64 = 5
    /// Requests each task makes at most: the test stops them long before.
    static let maxRequests = 100_000
    /// Attempts of one hold's write or release before giving up on it.
    static let maxAttempts = 400
    static let retryPause = Duration.milliseconds(50)
    /// Between one producer's acknowledged chunks: the load keeps every daemon busy across the faults
    /// (about 150 chunks/s in all), without saturating a 2-core machine that runs the rest of the suite
    /// beside it, whose real-time tests would then starve.
    static let producePace = Duration.milliseconds(20)

    /// An acknowledged grant.
    struct Grant: Sendable, Hashable {
        var holder: String
        var fence: UInt64
    }

    let cluster: ClusterProcesses
    let producers: Int
    let contenders: Int
    /// The highest sequence acknowledged, per producer.
    let acknowledged: Mutex<[UInt64]>
    /// Every grant acknowledged, in the order its answer arrived.
    let grants = Mutex<[Grant]>([])
    /// What must never happen: a permanent error, a lost entry, a refused fenced write of a holder.
    let violations = Mutex<[String]>([])
    /// Transient failures, by error name.
    let transientFailures = Mutex<[String: Int]>([:])
    /// Holds whose release was not acknowledged within ``maxAttempts``.
    let abandonedHolds = Atomic<Int>(0)
    /// Requests that succeeded, all tasks together.
    let successes = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)
    private let tasks = Mutex<[Task<Void, Never>]>([])

    init(_ cluster: ClusterProcesses, producers: Int = 3, contenders: Int = 4) {
        self.cluster = cluster
        self.producers = producers
        self.contenders = contenders
        acknowledged = Mutex(Array(repeating: 0, count: producers))
    }

    static func segment(_ producer: Int) -> String { "p\(producer)" }
    static func payload(_ producer: Int, _ sequence: UInt64) -> [UInt8] { Array("p\(producer)-\(sequence)".utf8) }

    var isStopped: Bool { stopped.load(ordering: .acquiring) }

    func start() {
        let started = (0..<producers).map { p in Task { await self.produce(p) } }
            + (0..<contenders).map { c in Task { await self.contend(c) } }
        tasks.withLock { $0 += started }
    }

    /// Tells the tasks to stop, without waiting (for `defer`).
    func halt() { stopped.store(true, ordering: .releasing) }

    /// Stops the tasks and waits for them (each ends its hold first).
    func stop() async {
        halt()
        for task in tasks.withLock({ $0 }) { await task.value }
    }

    /// Waits (bounded) until `count` more requests succeeded than when called.
    func progresses(by count: Int, seconds: Double) async -> Bool {
        let mark = successes.load(ordering: .acquiring)
        return await eventually(seconds: seconds) { self.successes.load(ordering: .acquiring) >= mark + count }
    }

    /// The client of `slot` or of the next running daemon after it (`slot` moves there); nil when none runs.
    private func client(_ slot: inout Int) -> CoordClient? {
        for step in 0..<cluster.count {
            let candidate = (slot + step) % cluster.count
            if let client = cluster.client(candidate) {
                slot = candidate
                return client
            }
        }
        return nil
    }

    private func violation(_ text: String) { violations.withLock { $0.append(text) } }

    /// A failure: counted when transient, a violation when permanent; true when the task should give up.
    /// `provider_closed` is the test's own doing (the cluster closes a daemon's client when it stops or
    /// kills that daemon, maybe in the middle of a call): counted, and the task moves to the next daemon.
    private func failed(_ error: StreamsError, _ what: String) -> Bool {
        if error.code == .transient || error == .providerClosed {
            transientFailures.withLock { $0[error.name, default: 0] += 1 }
            return false
        }
        violation("\(what): permanent \(error.name): \(error.message)")
        return true
    }

    // MARK: Producers

    private func produce(_ producer: Int) async {
        let segment = Self.segment(producer)
        var slot = producer % cluster.count
        var next: UInt64 = 1
        // The last attempt failed without an answer: it may have committed.
        var uncertain = false
        for _ in 0..<Self.maxRequests where !isStopped {
            guard let client = client(&slot) else {
                try? await Task.sleep(for: Self.retryPause)
                continue
            }
            let records = (0..<Self.recordsPerChunk).map { Record(sequence: next + $0, payload: Self.payload(producer, next + $0)) }
            do throws(StreamsError) {
                let statuses = try await client.produce(space: Self.space, segment: segment, records: records)
                guard let last = statuses.last?.lastSequence, last >= next else {
                    violation("\(segment): produce of \(next)… answered \(statuses)")
                    return
                }
                acknowledged.withLock { $0[producer] = last }
                next = last + 1
                uncertain = false
                successes.add(1, ordering: .relaxed)
                try? await Task.sleep(for: Self.producePace)
            } catch where error.name == "sequence_gap" {
                // Expected only after an attempt whose answer was lost: it committed (some of) the chunk.
                guard let head = try? await client.peek(space: Self.space, segment: segment) else { continue }
                if !uncertain || head.sequence + 1 < next {
                    violation("\(segment): sequence_gap at \(next) with the head at \(head.sequence) (after a lost answer: \(uncertain))")
                    return
                }
                next = head.sequence + 1
                uncertain = false
            } catch {
                if failed(error, "\(segment): produce of \(next)…") { return }
                uncertain = true
                slot += 1
                try? await Task.sleep(for: Self.retryPause)
            }
        }
    }

    // MARK: Lease contenders

    private func contend(_ contender: Int) async {
        let holder = "holder-\(contender)"
        var slot = contender % cluster.count
        for _ in 0..<Self.maxRequests where !isStopped {
            guard let client = client(&slot) else {
                try? await Task.sleep(for: Self.retryPause)
                continue
            }
            let asked = ContinuousClock.now
            let result: LeaseResult
            do throws(StreamsError) {
                result = try await client.acquire(key: Self.leaseKey, holder: holder, ttl: Self.leaseTTL)
            } catch {
                if failed(error, "\(holder): acquire") { return }
                slot += 1
                // The grant may have committed with its answer lost: give it back before asking again.
                await release(holder, &slot)
                try? await Task.sleep(for: Self.retryPause)
                continue
            }
            guard result.ok, let fence = result.fence else {
                try? await Task.sleep(for: .milliseconds(Int.random(in: 5...30)))
                continue
            }
            successes.add(1, ordering: .relaxed)
            grants.withLock { $0.append(Grant(holder: holder, fence: fence)) }
            await writeHistory(Grant(holder: holder, fence: fence), asked: asked, &slot)
            await release(holder, &slot)
            try? await Task.sleep(for: .milliseconds(Int.random(in: 5...30)))
        }
    }

    static func historyPayload(_ grant: Grant) -> [UInt8] { Array("\(grant.holder) \(grant.fence)".utf8) }

    /// Appends `grant` to the history segment with its fence: once, however many attempts it takes.
    private func writeHistory(_ grant: Grant, asked: ContinuousClock.Instant, _ slot: inout Int) async {
        let payload = Self.historyPayload(grant)
        for _ in 0..<Self.maxAttempts where ContinuousClock.now - asked < Self.holdLimit {
            guard let client = client(&slot) else {
                try? await Task.sleep(for: Self.retryPause)
                continue
            }
            do throws(StreamsError) {
                // Only the holder writes the segment while it holds the lease: the head is this holder's
                // own write when an earlier attempt committed, else the previous holder's.
                let head = try await client.peek(space: Self.space, segment: Self.historySegment)
                if head.payload == payload { return }
                try await client.produce(space: Self.space, segment: Self.historySegment,
                                         records: [Record(sequence: head.sequence + 1, payload: payload)],
                                         fence: Fence(key: Self.leaseKey, token: grant.fence))
                successes.add(1, ordering: .relaxed)
                return
            } catch where error.name == "fence_mismatch" {
                let heldMs = Int((ContinuousClock.now - asked) / .milliseconds(1))
                violation("\(grant.holder) holds \(Self.leaseKey) with fence \(grant.fence) (asked for 60 s \(heldMs) ms ago) "
                    + "and its fenced write was refused: \(error.message)")
                return
            } catch where error.name == "sequence_gap" {
                continue  // the head moved between peek and produce: read it again
            } catch {
                if failed(error, "\(grant.holder): history write with fence \(grant.fence)") { return }
                slot += 1
                try? await Task.sleep(for: Self.retryPause)
            }
        }
    }

    /// Releases `holder`'s lease, trying until a server answers (a refusal says it was not held).
    private func release(_ holder: String, _ slot: inout Int) async {
        for _ in 0..<Self.maxAttempts {
            guard let client = client(&slot) else {
                try? await Task.sleep(for: Self.retryPause)
                continue
            }
            do throws(StreamsError) {
                _ = try await client.release(key: Self.leaseKey, holder: holder)
                return
            } catch {
                if failed(error, "\(holder): release") { return }
                slot += 1
                try? await Task.sleep(for: Self.retryPause)
            }
        }
        abandonedHolds.add(1, ordering: .relaxed)
    }

    // MARK: Checks, once stopped

    /// Every entry of a segment, from the first.
    func entries(of segment: String) async throws -> [Entry] {
        try await cluster.settled { client in
            var entries: [Entry] = []
            // Bounded: the load writes far fewer than this in a test.
            for try await entry in client.consumeSegment(ConsumeSegment(space: Self.space, segment: segment)) {
                entries.append(entry)
                if entries.count >= 1_000_000 { break }
            }
            return entries
        }
    }

    /// Every acknowledged produce is in its segment exactly once: the segment is contiguous from 1, reaches
    /// the highest acknowledged sequence, and holds what was produced.
    func checkEveryAcknowledgedProduceOnce() async throws {
        for producer in 0..<producers {
            let acknowledged = acknowledged.withLock { $0[producer] }
            let entries = try await entries(of: Self.segment(producer))
            let sequences = entries.map(\.sequence)
            #expect(acknowledged > 0, "producer \(producer) got acknowledgements")
            #expect(sequences.count >= Int(acknowledged), "\(Self.segment(producer)): acknowledged up to \(acknowledged), read back \(sequences.count)")
            #expect(sequences == (0..<sequences.count).map { UInt64($0) + 1 }, "\(Self.segment(producer)): each sequence once, contiguous from 1")
            let wrong = entries.filter { $0.payload != Self.payload(producer, $0.sequence) }
            #expect(wrong.isEmpty, "\(Self.segment(producer)): \(wrong.count) entries hold something else")
        }
    }

    /// No two holders overlapped and fences only rose: no holder's fenced write was refused, every grant
    /// took a fence of its own, and the history (in the order the server committed it) has strictly
    /// increasing fences, each from a grant acknowledged to that holder.
    func checkLeaseHistory(minimumGrants: Int) async throws {
        let grants = grants.withLock { $0 }
        #expect(grants.count >= minimumGrants, "grants acknowledged: \(grants.count)")
        #expect(Set(grants.map(\.fence)).count == grants.count, "every grant has a fence of its own")
        let history = try await entries(of: Self.historySegment).map { entry -> Grant? in
            let words = String(decoding: entry.payload ?? [], as: UTF8.self).split(separator: " ")
            guard words.count == 2, let fence = UInt64(words[1]) else { return nil }
            return Grant(holder: String(words[0]), fence: fence)
        }
        #expect(!history.contains(nil), "history entries read back")
        let written = history.compactMap { $0 }
        let acknowledged = Set(grants)
        #expect(written.allSatisfy { acknowledged.contains($0) }, "each history entry is an acknowledged grant")
        let fences = written.map(\.fence)
        #expect(zip(fences, fences.dropFirst()).allSatisfy { $0 < $1 }, "fences strictly increase in commit order: \(fences)")
        #expect(written.count >= minimumGrants, "holds written: \(written.count)")
    }

    /// Nothing that must not happen happened.
    func checkNoViolations() {
        let violations = violations.withLock { $0 }
        #expect(violations.isEmpty, "\(violations.count) violations: \(violations.prefix(10))")
        #expect(abandonedHolds.load(ordering: .acquiring) == 0, "every hold was released")
    }

    /// A one-line account of the transient failures seen.
    var failureSummary: String {
        transientFailures.withLock { $0 }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }
}
