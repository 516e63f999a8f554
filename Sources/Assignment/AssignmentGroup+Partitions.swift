extension AssignmentGroup {
    /// Replaces the group's partitions with `updated`, matching partitions by name, and its pins with `zones`
    /// (nil keeps the pins of the partitions still declared).
    ///
    /// A partition in both keeps its state and owner. A new one starts unowned; a name removed by an earlier
    /// update that is still being released comes back as releasing. A removed partition whose present owner
    /// holds its lease is asked to be released and is granted to nobody afterwards; one reserved for an absent
    /// member, or unowned, is dropped. Then the group is re-planned. Refused when the partitions declared plus
    /// those still being released would pass `maxPartitions`, or when `zones` pins a partition `updated` does
    /// not declare. A partition whose pin changes moves by the same cooperative hand-off as any other.
    public mutating func updatePartitions(
        _ updated: PartitionSet, zones updatedZones: PartitionZones? = nil, now: Int64
    ) -> Result<[AssignmentAction], AssignmentRejection> {
        let updatedIndex = Self.index(updated)
        let pins = updatedZones ?? zones.restricted(to: updated)
        if let unknown = pins.zones.keys.sorted().first(where: { updatedIndex[$0] == nil }) {
            return .failure(.unknownPinnedPartition(unknown))
        }
        var removed: [(name: String, state: PartitionState)] = []
        for (index, name) in partitions.names.enumerated() where updatedIndex[name] == nil {
            removed.append((name, states[index]))
        }
        let stillHeld = removed.filter { entry in
            switch entry.state {
            case .owned(let owner): members[owner]?.absentUntil == nil
            case .releasing: true
            case .unowned: false
            }
        }
        let returning = updated.names.filter { retiring[$0] != nil }.count
        let inHand = updated.count + retiring.count - returning + stillHeld.count
        guard inHand <= limits.maxPartitions else { return .failure(.tooManyPartitionsInHand(limit: limits.maxPartitions)) }

        var actions: [AssignmentAction] = []
        var updatedStates: [PartitionState] = []
        updatedStates.reserveCapacity(updated.count)
        for name in updated.names {
            if let index = indexByName[name] {
                updatedStates.append(states[index])
            } else if let entry = retiring.removeValue(forKey: name) {
                updatedStates.append(.releasing(from: entry.member, deadline: entry.deadline))
            } else {
                updatedStates.append(.unowned)
            }
        }
        for entry in stillHeld {
            switch entry.state {
            case .owned(let owner):
                let due = deadline(after: now, ms: timings.revokeAfterMs)
                retiring[entry.name] = Retiring(member: owner, deadline: due)
                actions.append(.askRelease(partition: entry.name, from: owner, deadline: due))
            case .releasing(let owner, let due):
                retiring[entry.name] = Retiring(member: owner, deadline: due)
            case .unowned:
                break
            }
        }
        partitions = updated
        zones = pins
        indexByName = updatedIndex
        states = updatedStates
        targets = Array(repeating: nil, count: updated.count)
        return .success(replanned(after: actions, now: now))
    }
}
