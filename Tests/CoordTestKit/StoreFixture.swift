import StreamCore

/// The store implementations every store test runs against (streamkit's configurations loop, §8).
public enum StoreKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case memory
    case file

    public var description: String { rawValue }

    /// True for the kinds whose contents outlive a close.
    public var isDurable: Bool {
        switch self {
        case .memory: false
        case .file: true
        }
    }
}

/// A store of one kind with a manual clock and, for file stores, its own temporary directory.
public struct StoreFixture: Sendable {
    /// Which store.
    public let kind: StoreKind
    /// The store's wall clock.
    public let clock: ManualWallClock
    /// Limits to open the store with.
    public let limits: StoreLimits
    private let directory: TemporaryDirectory

    /// Creates the fixture (and its directory).
    public init(_ kind: StoreKind, limits: StoreLimits = StoreLimits(), clock: ManualWallClock = ManualWallClock()) throws {
        self.kind = kind
        self.limits = limits
        self.clock = clock
        directory = try TemporaryDirectory(prefix: "coordd-store")
    }

    /// The same stores (same directory and clock), opened with `limits` from now on: a daemon of another
    /// build over the files an earlier one wrote.
    public func reopening(with limits: StoreLimits) -> StoreFixture {
        StoreFixture(kind: kind, clock: clock, limits: limits, directory: directory)
    }

    private init(kind: StoreKind, clock: ManualWallClock, limits: StoreLimits, directory: TemporaryDirectory) {
        self.kind = kind
        self.clock = clock
        self.limits = limits
        self.directory = directory
    }

    /// The store's directory (file stores).
    public var path: String { directory.path }

    /// Opens the store named `name` (each name has its own directory); for durable kinds, opening again
    /// after `close()` reads back what was written.
    public func open(name: String = "store") async throws -> any StreamStore {
        switch kind {
        case .memory: return MemoryStore(limits: limits, clock: clock)
        case .file: return try FileStore(directory: "\(path)/\(name)", limits: limits, clock: clock)
        }
    }

    /// The store as its next owner sees it: a durable store closed and opened again, a memory store the
    /// same one (its contents live only as long as it does).
    public func reopen(_ store: any StreamStore, name: String = "store") async throws -> any StreamStore {
        guard kind.isDurable else { return store }
        await store.close()
        return try await open(name: name)
    }

    /// Removes the directory.
    public func remove() { directory.remove() }
}
