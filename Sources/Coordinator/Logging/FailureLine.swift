import StreamCore

/// The message of the warn line for a failed system call: named after the resource that ran out, so
/// `grep "disk full"` finds every one, or `storage failed` for any other failure.
enum FailureLine {
    /// `disk full`, `out of descriptors`, `thread start failed`, `out of memory`, or `storage failed`.
    static func message(for shortage: ResourceShortage?) -> String {
        switch shortage {
        case .disk: "disk full"
        case .descriptors: "out of descriptors"
        case .threads: "thread start failed"
        case .memory: "out of memory"
        case nil: "storage failed"
        }
    }

    /// `shortage.rawValue`, or `error` when no resource ran out (the `cause` label of store opens).
    static func cause(_ shortage: ResourceShortage?) -> String {
        shortage?.rawValue ?? "error"
    }
}
