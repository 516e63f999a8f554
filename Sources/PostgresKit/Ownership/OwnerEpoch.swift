import StreamCore

/// A store's ownership as its owner holds it: the store, the owning daemon's node id and the epoch its
/// take-over got. Every write transaction of the store commits only while `coordd_store_owner` still
/// holds exactly this (``StoreOwnershipSQL/checkEpoch(_:on:)``).
public struct OwnerEpoch: Sendable, Hashable, CustomStringConvertible {
    /// The store.
    public let store: WireUUID
    /// The owning daemon's `--cluster-node-id`.
    public let node: String
    /// The epoch: 1 for the first owner, one more for each take-over since.
    public let epoch: Int64

    /// An ownership of `store` by `node` under `epoch`.
    public init(store: WireUUID, node: String, epoch: Int64) {
        self.store = store
        self.node = node
        self.epoch = epoch
    }

    public var description: String { "store \(store) owned by node \(node) under epoch \(epoch)" }
}

/// Another daemon's ownership of a store, as a take-over found it.
public struct ForeignOwner: Sendable, Equatable {
    /// The owning daemon's node id.
    public let node: String
    /// Its epoch.
    public let epoch: Int64
    /// Where other daemons reach it (`--advertise-url`), when it gave one.
    public let advertiseURL: String?
    /// How long until its ownership expires unless renewed, on PostgreSQL's clock.
    public let expiresInMs: Int64

    /// Another daemon's ownership as found.
    public init(node: String, epoch: Int64, advertiseURL: String?, expiresInMs: Int64) {
        self.node = node
        self.epoch = epoch
        self.advertiseURL = advertiseURL
        self.expiresInMs = expiresInMs
    }

    /// The error a request for the store ends with here: transient, naming the owner and its URL.
    public func refusal(of store: WireUUID) -> StreamsError {
        .storeOwnedElsewhere(store, by: node, advertiseURL: advertiseURL, expiresInMs: expiresInMs)
    }
}

/// What a take-over got.
public enum TakeOverOutcome: Sendable, Equatable {
    /// This node owns the store now, under this epoch.
    case owned(OwnerEpoch)
    /// Another node owns it and its ownership has not expired.
    case ownedElsewhere(ForeignOwner)
}
