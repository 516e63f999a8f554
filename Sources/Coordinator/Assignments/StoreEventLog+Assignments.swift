extension StoreEventLog {
    /// Assignment leases a previous run left were released as the store opened.
    func assignmentLeasesReleasedOnOpen(_ count: Int) {
        logger.info("assignment leases released on open", ["store": store, "count": count])
    }

    /// A member joined (or returned to) a group.
    func assignmentMemberJoined(group: String, member: String) {
        logger.info("assignment member joined", ["store": store, "group": group, "member": member])
    }

    /// A member left its group (`how`: left) or its stream ended (its grace period starts).
    func assignmentMemberLeft(group: String, member: String, how: String) {
        logger.info("assignment member left", ["store": store, "group": group, "member": member, "reason": how])
    }

    /// The lease engine refused a grant the assignment engine made: a live lease was in the way, so the
    /// partition stays unleased. Never expected; a warning so that it is seen.
    func assignmentGrantRefused(key: String, _ message: String) {
        logger.warn("assignment grant refused", ["store": store, "key": key, "error": message])
    }
}
