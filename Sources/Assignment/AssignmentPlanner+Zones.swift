/// Placement constraints: members in zones, partitions pinned to a zone.
///
/// The partitions fall into classes: one per zone that pins any, and the unpinned ones. Each pinned class is
/// planned on its own, exactly as a group without pins is (balance, stickiness, spread and determinism as
/// the type comment says), over the present members of that zone alone; with no such member its partitions
/// get no target. Then the unpinned partitions are placed by water-filling over every member, so that each
/// member's *total* load relative to its weight is as even as the pinned load allows.
///
/// **Water-filling.** Let `p_m` be the pinned partitions the plan gives member `m` and `U` the unpinned
/// ones. The level `L` is the one value with `Σ max(0, L·w_m − p_m) = U`, and member `m`'s unpinned share
/// is `u_m = max(0, L·w_m − p_m)`: a member whose pinned load is at or above the level (`p_m ≥ L·w_m`)
/// gets no unpinned partition, the others are filled up to the level. Every member gets `⌊u_m⌋` or
/// `⌈u_m⌉` unpinned partitions, together exactly `U`. Then, with `t_m` a member's total, every member that
/// receives an unpinned partition has `|t_m − L·w_m| < 1`, every member has `t_m > L·w_m − 1`, and so for a
/// receiving member `a` and any member `b`: `(t_a − 1)/w_a < (t_b + 1)/w_b`. With no pins, `p_m = 0` and
/// `u_m = U·w_m/W`: the shares, and the plan, of a group without pins.
///
/// **Stickiness with pins.** Within each pinned class, the class's proof holds over its members (a
/// partition held by a member outside its zone, or by no present member, is placed, and always leaves its
/// holder). Among the unpinned, for the pinned loads the plan chose, the rounding prefers members holding
/// more unpinned partitions than `⌊u_m⌋`, so the planner moves the fewest unpinned partitions of any
/// assignment whose counts round the water-filling shares; re-planning an output moves nothing.
///
/// **Not guaranteed.** Totals within `⌊⌋`/`⌈⌉` of the weight share: pins can force a zone's members above
/// it. The fewest moves over every joint choice: a pinned class is rounded for itself alone, and another
/// rounding there could let the unpinned move less. A member without a zone never receives a pinned
/// partition.
extension AssignmentPlanner {
    /// The target owner of each partition `0..<partitionCount` under zone constraints: a partition whose
    /// `partitionZones` entry is a zone goes only to a member of `weights` whose `memberZones` entry is that
    /// zone, and has no target when there is none; the others go to any member.
    ///
    /// - Parameters:
    ///   - weights: each member's weight (≥ 1); its order is ignored.
    ///   - current: each partition's current owner, possibly stale. Its length must be `partitionCount`.
    ///   - memberZones: each member's zone; a member missing from it has none.
    ///   - partitionZones: each partition's zone, or nil when it is not pinned. Its length must be `partitionCount`.
    public static func plan(
        partitionCount: Int, weights: [MemberID: Int], current: [MemberID?], memberZones: [MemberID: String],
        partitionZones: [String?]
    ) -> [MemberID?] {
        precondition(
            current.count == partitionCount,
            "AssignmentPlanner: \(current.count) current owners for \(partitionCount) partitions")
        precondition(
            partitionZones.count == partitionCount,
            "AssignmentPlanner: \(partitionZones.count) partition zones for \(partitionCount) partitions")
        var target = [MemberID?](repeating: nil, count: partitionCount)
        let members = weights.keys.sorted()
        guard !members.isEmpty else { return target }
        let memberWeights = members.map { weights[$0] ?? 0 }

        var slots: [MemberID: Int] = [:]
        slots.reserveCapacity(members.count)
        for (slot, member) in members.enumerated() { slots[member] = slot }
        var pinned: [String: [Int]] = [:]
        var unpinned: [Int] = []
        for partition in 0..<partitionCount {
            if let zone = partitionZones[partition] { pinned[zone, default: []].append(partition) } else { unpinned.append(partition) }
        }

        // Each zone's pinned partitions over that zone's members, as a group of their own.
        var pinnedLoad = [Int](repeating: 0, count: members.count)
        for zone in pinned.keys.sorted() {
            let partitions = pinned[zone] ?? []
            let inZone = members.indices.filter { memberZones[members[$0]] == zone }
            guard !inZone.isEmpty else { continue }
            var local: [Int: Int] = [:]
            for (position, slot) in inZone.enumerated() { local[slot] = position }
            let owners = partitions.map { current[$0].flatMap { slots[$0] }.flatMap { local[$0] } }
            var held = [Int](repeating: 0, count: inZone.count)
            for case let position? in owners { held[position] += 1 }
            let quota = quotas(partitionCount: partitions.count, weights: inZone.map { memberWeights[$0] }, held: held)
            place(partitions, over: inZone.map { members[$0] }, owners: owners, quota: quota, into: &target)
            for (position, slot) in inZone.enumerated() { pinnedLoad[slot] += quota[position] }
        }

        // The rest over every member, filling the totals up to one level.
        let owners = unpinned.map { current[$0].flatMap { slots[$0] } }
        var held = [Int](repeating: 0, count: members.count)
        for case let slot? in owners { held[slot] += 1 }
        let quota = waterFilledQuotas(count: unpinned.count, weights: memberWeights, pinned: pinnedLoad, held: held)
        place(unpinned, over: members, owners: owners, quota: quota, into: &target)
        return target
    }

    /// Each member's number of unpinned partitions: its water-filling share `max(0, L·w − p)` rounded as
    /// ``rounded(numerators:denominator:count:held:)`` does, computed exactly in integers.
    ///
    /// The members that receive are those whose pinned level `p/w` is below `L`: taken in ascending `p/w`,
    /// each is added while its level is below the level the ones before it reach, `(count + Σp)/Σw`. A member
    /// added lowers that level towards its own, so the members before it stay below; one not added is at or
    /// above it, as is everyone after it. Over the receivers `A`, `L = (count + P_A)/W_A`, and a receiver's
    /// share is `((count + P_A)·w − p·W_A) / W_A`; with no pinned load that is `count·w/W`, the shares of
    /// ``quotas(partitionCount:weights:held:)``.
    static func waterFilledQuotas(count: Int, weights: [Int], pinned: [Int], held: [Int]) -> [Int] {
        _ = sumOfWeights(weights)
        let byLevel = weights.indices.sorted { a, b in
            let left = product(pinned[a], weights[b])
            let right = product(pinned[b], weights[a])
            return left != right ? left < right : a < b
        }
        var filledLoad = count
        var filledWeight = 0
        var receivers = 0
        for slot in byLevel {
            // Below the level of the receivers so far: p/w < (count + P)/W, cross-multiplied.
            if receivers > 0 && product(pinned[slot], filledWeight) >= product(filledLoad, weights[slot]) { break }
            filledLoad += pinned[slot]
            filledWeight += weights[slot]
            receivers += 1
        }
        var numerators = [Int](repeating: 0, count: weights.count)
        for slot in byLevel.prefix(receivers) {
            numerators[slot] = product(filledLoad, weights[slot]) - product(pinned[slot], filledWeight)
        }
        return rounded(numerators: numerators, denominator: filledWeight, count: count, held: held)
    }

    /// `a · b`, which the limits keep far from overflowing.
    private static func product(_ a: Int, _ b: Int) -> Int {
        let (result, overflow) = a.multipliedReportingOverflow(by: b)
        precondition(!overflow, "AssignmentPlanner: \(a) × \(b) overflows")
        return result
    }
}
