extension WireUUID {
    /// The store a daemon opens at start and the command-line tool addresses unless told otherwise:
    /// `00000000-0000-4000-8000-000000000001`, a fixed version-4 UUID so documentation can name it.
    public static let defaultStore = WireUUID(high: 0x0000_0000_0000_4000, low: 0x8000_0000_0000_0001)
}
