/// Why the daemon did not start.
public struct DaemonStartError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Whose fault it is, which decides the exit status.
    public enum Kind: Sendable, Hashable {
        /// The configuration cannot work (an unreadable certificate, a key of the wrong type): exit 2.
        case configuration
        /// The machine refused (port in use, data directory not writable, store damaged): exit 1.
        case environment
    }

    /// Configuration or environment.
    public var kind: Kind
    /// What failed, naming the file, address or store.
    public var message: String

    /// Creates an error.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The exit status the executable ends with: 2 for configuration, 1 otherwise.
    public var exitStatus: Int32 { kind == .configuration ? 2 : 1 }

    public var description: String { message }
}
