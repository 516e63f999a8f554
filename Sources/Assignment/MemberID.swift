/// A group member's identity: a registered worker's id text, or a name the member chose.
///
/// Ordered and compared as its `String`. Ids the engine accepts are visible ASCII (see
/// `AssignmentLimits.problem(with:as:)`), for which that is byte order and byte equality, the way the lease
/// engine compares holders; every order the engine emits is sorted by it, never by hashing.
public struct MemberID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The id's text; it is also the holder of the member's partition leases.
    public let name: String

    /// Creates an id from its text.
    public init(_ name: String) { self.name = name }

    /// Orders ids by their text.
    public static func < (lhs: MemberID, rhs: MemberID) -> Bool { lhs.name < rhs.name }

    /// The id's text.
    public var description: String { name }
}
