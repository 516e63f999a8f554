import Assignment
import CoordTestKit
import Testing

/// Members join, leave, vanish and return, acknowledge late or never, and the partitions change, on a manual
/// clock, while `SimulatedShell` carries every action out on a real lease engine and checks the history after
/// every step: never two holders of a partition, fences that only grow, releases revoked on time, reservations
/// kept through a grace period and given up after it, and every partition owned whenever a member is present.
/// Every few hundred steps the members acknowledge everything and the group must settle, balanced.
struct ChurnSimulationTests {
    static let memberPool = (0..<8).map(member)
    static let partitionNamePool = (0..<30).map { "p\($0)" }
    static let stepCount = 4_000

    @Test(arguments: randomSeeds)
    func churnNeverGivesAPartitionTwoOwnersAndSettlesBalanced(seed: UInt64) async throws {
        var random = SplitMix64(seed: seed)
        let limits = AssignmentLimits(maxPartitions: 40, maxMembers: 6)
        let graceMs = [Int64(0), 2_000, 10_000][random.next(in: 0...2)]
        let revokeAfterMs = [Int64(500), 5_000][random.next(in: 0...1)]
        let timings = try AssignmentTimings.validated(graceMs: graceMs, revokeAfterMs: revokeAfterMs, limits: limits).get()
        let initial = try PartitionSet.count(random.next(in: 1...24), limits: limits).get()
        var shell = SimulatedShell(engine: AssignmentGroup(partitions: initial, timings: timings, limits: limits))

        for step in 0..<Self.stepCount {
            // Hands the thread back now and then: a long synchronous run on one of the pool's few threads stalls
            // every other test of the process.
            if step % 50 == 0 { await Task.yield() }
            shell.context = "seed \(seed) step \(step) now \(shell.now) (grace \(graceMs), revoke after \(revokeAfterMs))"
            let present = shell.presence.keys.sorted()
            let absent = shell.absentUntil.keys.sorted()
            switch random.next(in: 0...99) {
            case 0..<14:
                // A member joins, or one that is absent returns (sometimes with another weight).
                let candidate = Self.memberPool[random.next(in: 0...(Self.memberPool.count - 1))]
                if shell.presence[candidate] == nil { try shell.join(candidate, weight: random.next(in: 1...3)) }
            case 14..<20 where !present.isEmpty:
                try shell.disconnect(present[random.next(in: 0...(present.count - 1))])
            case 20..<23 where !present.isEmpty:
                try shell.leave(present[random.next(in: 0...(present.count - 1))])
            case 23..<24 where !absent.isEmpty:
                try shell.leave(absent[random.next(in: 0...(absent.count - 1))])
            case 24..<50 where !present.isEmpty:
                // A member acknowledges some of its releases, now and then with a name that is not its to release.
                let member = present[random.next(in: 0...(present.count - 1))]
                var names = (shell.engine.assignment(of: member)?.releasing.map(\.partition) ?? []).filter { _ in random.oneIn(2) }
                if random.oneIn(5) { names.append(Self.partitionNamePool[random.next(in: 0...(Self.partitionNamePool.count - 1))]) }
                try shell.acknowledge(names, by: member)
            case 50..<53:
                try shell.updatePartitions(try randomPartitions(&random, limits: limits))
            case 53..<55:
                try shell.spuriousTick()
            case 55..<60:
                // A long pause: grace periods and release bounds run out.
                try shell.advance(by: Int64(random.next(in: 0...15_000)))
            case 60..<68:
                // The clock lands exactly on, or 1 ms before, the next deadline, and the engine is ticked.
                if let due = shell.engine.nextDeadline {
                    try shell.advance(by: max(0, due - Int64(random.next(in: 0...1)) - shell.now))
                    try shell.spuriousTick()
                }
            default:
                try shell.advance(by: Int64(random.next(in: 0...400)))
            }
            try shell.checkInvariants()
            if step % 400 == 399 {
                try shell.settle()
                try shell.checkInvariants()
            }
        }
        try shell.settle()

        // The run took every path, so passing means something.
        let counts = shell.counts
        let context = "seed \(seed): \(counts.sorted { $0.key < $1.key })"
        #expect(counts["grant", default: 0] > 500, "\(context)")
        #expect(counts["ask", default: 0] > 100, "\(context)")
        #expect(counts["release", default: 0] > 50, "\(context)")
        #expect(counts["revoke", default: 0] > 5, "\(context)")
        #expect(counts["disconnect", default: 0] > 50, "\(context)")
        #expect(counts["leave", default: 0] > 20, "\(context)")
        #expect(counts["partition update", default: 0] > 20, "\(context)")
        #expect(counts["refused join", default: 0] > 0, "\(context)")
        #expect(counts["settled", default: 0] == Self.stepCount / 400 + 1, "\(context)")
        if graceMs > 0 {
            #expect(counts["return within grace", default: 0] > 5, "\(context)")
            #expect(counts["partitions given back", default: 0] > 5, "\(context)")
            #expect(counts["expiry", default: 0] > 5, "\(context)")
        }
    }

    /// A new declaration: a count, or names from the pool in a random order.
    private func randomPartitions(_ random: inout SplitMix64, limits: AssignmentLimits) throws -> PartitionSet {
        if random.oneIn(2) { return try PartitionSet.count(random.next(in: 1...24), limits: limits).get() }
        let names = Self.partitionNamePool.shuffled(using: &random).prefix(random.next(in: 1...Self.partitionNamePool.count))
        return try PartitionSet.named(Array(names), limits: limits).get()
    }
}
