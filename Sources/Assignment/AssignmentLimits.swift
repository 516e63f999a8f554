/// Every bound the assignment engine enforces, and its defaults, in one place with where each value comes from.
public struct AssignmentLimits: Sendable, Hashable {
    /// The most partitions one group may declare, and the most a group may have in hand at once counting the
    /// partitions removed by an update that are still being released.
    ///
    /// Every partition is a lease (`$assign/<group>/<partition>`) and a line in its owner's assignment message:
    /// 10,000 names of up to `maxNameBytes` plus their fences stay near 1.5 MB, well under the 8 MiB frame cap,
    /// and a re-plan, which is O(partitions), stays in the tens of microseconds.
    public var maxPartitions: Int

    /// The most members (present, or absent within their grace period) one group may hold. Each is a stream on
    /// the daemon; a re-plan sorts them (O(m log m)). 1,000 members over 10,000 partitions is 10 each.
    public var maxMembers: Int

    /// The most groups one store may hold; checked by the service, which keeps one engine per group in memory
    /// (about 100 bytes per partition and per member), so that with typical groups of a few hundred
    /// partitions the leases they create stay in the range of the inventory's 100,000 workers.
    public var maxGroups: Int

    /// The largest member weight. Weights are relative capacities: 1,000 allows a 1,000:1 spread, far more than
    /// any fleet needs, and keeps every product the planner forms (partitions × weight ≤ 10^7, the sum of
    /// weights ≤ 10^6) exact in `Int`.
    public var maxWeight: Int

    /// The longest member id, partition name or group name, in bytes (all are visible ASCII). A lease key is
    /// `$assign/` + group + `/` + partition = at most 265 bytes, under `LeaseLimits.maxKeyBytes` (1,024), and a
    /// member id is the lease holder, under `LeaseLimits.maxHolderBytes` (256). A UUID's text is 36.
    public var maxNameBytes: Int

    /// The most distinct zones one group's declaration may pin partitions to. Each zone is a class the
    /// planner balances on its own (a re-plan stays O(partitions + zones × members)); cloud regions times
    /// their availability zones stay well below 100, and a partition is pinned to one zone at most.
    public var maxZones: Int

    /// How long a member whose presence ended keeps its partitions, unworked and unmoved, before they are
    /// reassigned, when the group declares no `grace_ms`. 30 s covers a process restart or a reconnect after
    /// a network blip, and equals the presence TTL floor (streamkit v1 §4.2), so a member that vanished is
    /// kept no longer after its stream ended than a silent one is kept before it is evicted.
    public var defaultGraceMs: Int64

    /// The longest grace period a group may declare: 10 minutes. Partitions of a vanished member are unworked
    /// for that long, so a longer wait is better served by a larger weight on a member that stays.
    public var maxGraceMs: Int64

    /// How long a member asked to release a partition may take before the partition is revoked, when the
    /// group declares no `revoke_after_ms`. 30 s lets a member finish and commit the work in hand; it is
    /// also the longest a move leaves a partition unworked when its owner does not answer.
    public var defaultRevokeAfterMs: Int64

    /// The longest release bound a group may declare: 10 minutes, the order of Kafka's default rebalance
    /// timeout (`max.poll.interval.ms`, 5 minutes), doubled.
    public var maxRevokeAfterMs: Int64

    /// Creates limits; every argument defaults to the value documented on its property.
    public init(
        maxPartitions: Int = 10_000,
        maxMembers: Int = 1_000,
        maxGroups: Int = 1_000,
        maxWeight: Int = 1_000,
        maxNameBytes: Int = 128,
        maxZones: Int = 100,
        defaultGraceMs: Int64 = 30_000,
        maxGraceMs: Int64 = 600_000,
        defaultRevokeAfterMs: Int64 = 30_000,
        maxRevokeAfterMs: Int64 = 600_000
    ) {
        precondition(maxPartitions > 0 && maxMembers > 0 && maxGroups > 0, "AssignmentLimits: counts must be positive")
        precondition(maxZones > 0, "AssignmentLimits: maxZones must be positive")
        precondition(maxWeight > 0 && maxNameBytes > 0, "AssignmentLimits: maxWeight and maxNameBytes must be positive")
        precondition(
            (0...maxGraceMs).contains(defaultGraceMs), "AssignmentLimits: defaultGraceMs must be within 0...maxGraceMs")
        precondition(
            (1...maxRevokeAfterMs).contains(defaultRevokeAfterMs),
            "AssignmentLimits: defaultRevokeAfterMs must be within 1...maxRevokeAfterMs")
        self.maxPartitions = maxPartitions
        self.maxMembers = maxMembers
        self.maxGroups = maxGroups
        self.maxWeight = maxWeight
        self.maxNameBytes = maxNameBytes
        self.maxZones = maxZones
        self.defaultGraceMs = defaultGraceMs
        self.maxGraceMs = maxGraceMs
        self.defaultRevokeAfterMs = defaultRevokeAfterMs
        self.maxRevokeAfterMs = maxRevokeAfterMs
    }
}

// MARK: - Names

extension AssignmentLimits {
    /// Why `name` cannot name a `kind`, or nil when it can.
    ///
    /// Names (zones too) are 1…`maxNameBytes` bytes of visible ASCII (0x21…0x7E): they become lease keys and holders, which
    /// are compared byte by byte, and appear in logs and metrics; ASCII has no two spellings of one text, so
    /// `String` equality and order are byte equality and order. A group name has no `/`, which separates it
    /// from the partition in `$assign/<group>/<partition>`, so no two (group, partition) pairs share a key.
    public func problem(with name: String, as kind: AssignmentName) -> AssignmentRejection? {
        let bytes = name.utf8
        if bytes.isEmpty { return .invalidName(kind, name: name, reason: "must not be empty") }
        if bytes.count > maxNameBytes {
            return .invalidName(kind, name: String(name.prefix(32)), reason: "exceeds maximum of \(maxNameBytes) bytes")
        }
        if !bytes.allSatisfy({ (0x21...0x7E).contains($0) }) {
            return .invalidName(kind, name: name, reason: "must be visible ASCII without spaces")
        }
        if kind == .group && bytes.contains(UInt8(ascii: "/")) {
            return .invalidName(kind, name: name, reason: "must not contain '/'")
        }
        return nil
    }

    /// Why a store holding `existingGroups` groups cannot create one more named `name`, or nil when it can.
    public func problemCreatingGroup(named name: String, existingGroups: Int) -> AssignmentRejection? {
        if let problem = problem(with: name, as: .group) { return problem }
        if existingGroups >= maxGroups { return .tooManyGroups(limit: maxGroups) }
        return nil
    }
}
