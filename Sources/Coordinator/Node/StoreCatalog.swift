import Glibc
import StreamCore
import Synchronization

/// Where a ``NodeManager``'s stores live: which stores exist, creating one, and opening one.
public protocol StoreCatalog: Sendable {
    /// True when `store` exists. Throws (transient) when that cannot be told.
    func contains(_ store: WireUUID) async throws(StreamsError) -> Bool
    /// Creates `store` durably when it does not exist; true when this call created it.
    func create(_ store: WireUUID) async throws(StreamsError) -> Bool
    /// Opens `store`, creating it when it does not exist.
    func open(_ store: WireUUID) async throws(StreamsError) -> any StreamStore
    /// Whether a store keeps what it holds when it is closed, so that an idle one may be closed to give
    /// back what an open store costs and be opened again later.
    var keepsContentsWhenClosed: Bool { get }
}

/// File stores, one directory per store UUID under `root`: a store exists when its directory does.
public struct FileStoreCatalog: StoreCatalog {
    /// The data directory.
    public let root: String

    /// A catalog of the stores under `root` (which must exist).
    public init(root: String) {
        self.root = root
    }

    /// The store's directory.
    public func directory(of store: WireUUID) -> String { root + "/" + store.description }

    public func contains(_ store: WireUUID) throws(StreamsError) -> Bool {
        var info = stat()
        do {
            _ = try Posix.call("stat") { stat(directory(of: store), &info) }
        } catch {
            if error.errno == ENOENT { return false }
            throw .storeUnavailable(because: "cannot look for its directory \(directory(of: store)): \(error)")
        }
        return info.st_mode & S_IFMT == S_IFDIR
    }

    public func create(_ store: WireUUID) async throws(StreamsError) -> Bool {
        // The directory sync waits for the disk: off the concurrency pool, as an open is.
        try await Posix.runBlocking(name: "coordd-create") { () throws(StreamsError) -> Bool in
            try createDirectory(of: store)
        }
    }

    private func createDirectory(of store: WireUUID) throws(StreamsError) -> Bool {
        let path = directory(of: store)
        do throws(IOError) {
            _ = try Posix.call("mkdir") { mkdir(path, 0o755) }
            // The new entry of the data directory must survive a crash once the client is told.
            try Posix.syncDirectory(root)
        } catch {
            guard error.errno == EEXIST else { throw .storeUnavailable(because: "cannot create its directory \(path): \(error)") }
            guard try contains(store) else { throw .storeUnavailable(because: "\(path) exists and is not a directory") }
            return false
        }
        return true
    }

    public func open(_ store: WireUUID) async throws(StreamsError) -> any StreamStore {
        let directory = directory(of: store)
        // Recovery reads the log and syncs files and directories: seconds on a busy disk.
        return try await Posix.runBlocking(name: "coordd-open") { () throws(StreamsError) -> FileStore in
            try FileStore(directory: directory)
        }
    }

    public var keepsContentsWhenClosed: Bool { true }
}

/// Stores that another function makes (memory stores, or a test's): the catalog remembers which exist —
/// those created or opened since it was made — up to `maxStores`. Nothing says such a store keeps its
/// contents when closed (a memory store does not), so none is ever closed for idleness.
public final class MadeStoreCatalog: StoreCatalog {
    /// Opens (makes) the store for a store UUID.
    public typealias Make = @Sendable (WireUUID) async throws(StreamsError) -> any StreamStore

    private let make: Make
    private let maxStores: Int
    private let known = Mutex<Set<WireUUID>>([])

    /// A catalog making stores with `make`, remembering at most `maxStores` of them: as none is ever
    /// closed, more could never be open at once anyway.
    public init(maxStores: Int, make: @escaping Make) {
        self.make = make
        self.maxStores = maxStores
    }

    /// Memory stores, which hold their entries only while the daemon runs.
    public static func memory(maxStores: Int) -> MadeStoreCatalog {
        MadeStoreCatalog(maxStores: maxStores) { _ throws(StreamsError) in MemoryStore() }
    }

    public func contains(_ store: WireUUID) throws(StreamsError) -> Bool {
        known.withLock { $0.contains(store) }
    }

    public func create(_ store: WireUUID) throws(StreamsError) -> Bool {
        try remember(store)
    }

    public func open(_ store: WireUUID) async throws(StreamsError) -> any StreamStore {
        _ = try remember(store)
        return try await make(store)
    }

    public var keepsContentsWhenClosed: Bool { false }

    /// Adds `store` to the stores that exist; true when it is new.
    private func remember(_ store: WireUUID) throws(StreamsError) -> Bool {
        let limit = maxStores
        return try known.withLock { known throws(StreamsError) in
            if known.contains(store) { return false }
            guard known.count < limit else {
                throw .storeUnavailable(because: "this daemon holds at most \(limit) stores in memory (the open stores limit)")
            }
            known.insert(store)
            return true
        }
    }
}
