import Assignment
import CoordTestKit
import Testing

/// A group with pins under random joins (in random zones), departures, absences, acknowledgements, ticks and
/// changes of pins, on a manual clock. After every step the plan keeps each pinned partition in its zone and
/// lists exactly the partitions whose zone has no present member as unplaceable; once every member has
/// acknowledged its releases, no member outside a partition's zone holds it.
struct ZoneGroupPropertyTests {
    static let memberPool = (0..<6).map(member)
    static let zonePool: [String?] = ["a", "b", nil]
    static let partitionCount = 12
    static let stepCount = 1_500

    @Test(arguments: randomSeeds)
    func pinnedPartitionsStayInTheirZoneThroughChurn(seed: UInt64) async throws {
        var random = SplitMix64(seed: seed)
        let partitions = partitionSet(Self.partitionCount)
        var group = AssignmentGroup(partitions: partitions, zones: try randomPins(&random, partitions), timings: timings())
        var now: Int64 = 0
        for step in 0..<Self.stepCount {
            if step % 50 == 0 { await Task.yield() }
            let context = "seed \(seed) step \(step) now \(now)"
            let statuses = group.memberStatuses
            let present = statuses.filter { $0.absentUntil == nil }.map(\.member)
            switch random.next(in: 0...99) {
            case 0..<20:
                let candidate = Self.memberPool[random.next(in: 0...(Self.memberPool.count - 1))]
                if !present.contains(candidate) {
                    let zone = Self.zonePool[random.next(in: 0...(Self.zonePool.count - 1))]
                    _ = try group.join(candidate, weight: random.next(in: 1...3), zone: zone, now: now).actions
                }
            case 20..<28 where !present.isEmpty:
                _ = try group.disconnect(present[random.next(in: 0...(present.count - 1))], now: now).actions
            case 28..<34 where !present.isEmpty:
                _ = try group.leave(present[random.next(in: 0...(present.count - 1))], now: now).actions
            case 34..<70 where !present.isEmpty:
                let member = present[random.next(in: 0...(present.count - 1))]
                let releasing = group.assignment(of: member)?.releasing.map(\.partition) ?? []
                _ = try group.released(releasing, by: member, now: now).actions
            case 70..<75:
                _ = try group.updatePartitions(partitions, zones: try randomPins(&random, partitions), now: now).actions
            default:
                now += Int64(random.next(in: 0...4_000))
                _ = group.tick(now: now)
            }
            try checkPlan(group, context)
        }
        // Everyone acknowledges: what is held is where the plan puts it.
        for status in group.memberStatuses where status.absentUntil == nil {
            let releasing = group.assignment(of: status.member)?.releasing.map(\.partition) ?? []
            _ = try group.released(releasing, by: status.member, now: now).actions
        }
        let zoneOf = Dictionary(uniqueKeysWithValues: group.memberStatuses.map { ($0.member, $0.zone) })
        for status in group.partitionStatuses {
            guard case .owned(let owner) = status.state, let zone = status.zone else { continue }
            #expect(zoneOf[owner] == zone, "seed \(seed): \(status.partition) pinned to \(zone) held by \(owner)")
        }
    }

    /// The plan's targets respect the pins, and `unplaceable` names exactly the pinned partitions whose zone
    /// has no present member while the group has one.
    func checkPlan(_ group: AssignmentGroup, _ context: String) throws {
        let members = group.memberStatuses
        let present = members.filter { $0.absentUntil == nil }
        let zoneOf = Dictionary(uniqueKeysWithValues: members.map { ($0.member, $0.zone) })
        let presentZones = Set(present.compactMap(\.zone))
        for status in group.partitionStatuses where !status.removed {
            if case .reserved = status.state { continue }
            if let zone = status.zone, let target = status.target {
                #expect(zoneOf[target] == zone, "\(context): \(status.partition) pinned to \(zone) targets \(target)")
            }
            let expected = status.zone.flatMap { zone in
                !present.isEmpty && !presentZones.contains(zone) ? "no member in zone \(zone)" : nil
            }
            #expect(status.unplaceable == expected, "\(context): \(status.partition) unplaceable \(String(describing: status.unplaceable))")
            if status.zone == nil || presentZones.contains(status.zone!) {
                #expect((status.target != nil) == !present.isEmpty, "\(context): \(status.partition) has target \(String(describing: status.target))")
            }
        }
    }
}

/// Random pins on about two thirds of `partitions`, to zones a, b and c (c never has a member here).
func randomPins(_ random: inout SplitMix64, _ partitions: PartitionSet) throws -> PartitionZones {
    var pins: [String: String] = [:]
    let zones = ["a", "b", "c"]
    for name in partitions.names where !random.oneIn(3) { pins[name] = zones[random.next(in: 0...2)] }
    return try PartitionZones.validated(pins, partitions: partitions, limits: limits).get()
}
