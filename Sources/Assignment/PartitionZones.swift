/// Which of a group's partitions are pinned to a zone: each to one zone at most. Part of the group's
/// declaration, compared with it; only validated maps exist.
///
/// A pinned partition goes only to a present member that declared the same zone, and waits unowned while
/// there is none (see `AssignmentPlanner`'s zone extension).
public struct PartitionZones: Sendable, Hashable {
    /// Partition name → zone. A dictionary, so a partition has one zone at most.
    public let zones: [String: String]

    private init(zones: [String: String]) { self.zones = zones }

    /// No partition pinned.
    public static let none = PartitionZones(zones: [:])

    /// The pins `zones` for `partitions`, or why they are refused: a pinned name is not one of `partitions`, a
    /// zone is not a valid name, or more than `maxZones` distinct zones are named.
    public static func validated(
        _ zones: [String: String], partitions: PartitionSet, limits: AssignmentLimits
    ) -> Result<PartitionZones, AssignmentRejection> {
        let declared = Set(partitions.names)
        var named = Set<String>()
        // Sorted, so that of several problems the same one is reported in every process.
        for partition in zones.keys.sorted() {
            guard declared.contains(partition) else { return .failure(.unknownPinnedPartition(String(partition.prefix(32)))) }
            let zone = zones[partition] ?? ""
            if let problem = limits.problem(with: zone, as: .zone) { return .failure(problem) }
            named.insert(zone)
            if named.count > limits.maxZones { return .failure(.tooManyZones(limit: limits.maxZones)) }
        }
        return .success(PartitionZones(zones: zones))
    }

    /// The pins of the partitions still in `partitions`: what an update that declares no pins keeps.
    public func restricted(to partitions: PartitionSet) -> PartitionZones {
        guard !zones.isEmpty else { return self }
        let declared = Set(partitions.names)
        return PartitionZones(zones: zones.filter { declared.contains($0.key) })
    }

    /// True when every pinned partition is one of `partitions`.
    func fits(_ partitions: PartitionSet) -> Bool {
        zones.isEmpty || Set(zones.keys).isSubset(of: Set(partitions.names))
    }

    /// True when no partition is pinned.
    public var isEmpty: Bool { zones.isEmpty }
}
