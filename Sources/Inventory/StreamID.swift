/// The shell's handle for one SubscribeWorkers stream.
///
/// The engine never interprets the value: it only records which stream owns which worker, so that
/// it can say which stream to end when a worker is replaced or evicted.
public struct StreamID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The value the shell chose.
    public let rawValue: UInt64

    /// Wraps a value chosen by the shell.
    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// Wraps a value chosen by the shell.
    public init(_ rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// Orders streams by their raw value, so results that list streams can be sorted deterministically.
    public static func < (lhs: StreamID, rhs: StreamID) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    /// `stream-<value>`, for messages and test output.
    public var description: String { "stream-\(rawValue)" }
}
