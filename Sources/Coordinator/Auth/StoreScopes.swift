import StreamCore

/// The stores a token's `scopes` grant, by streamkit v1 §3.2's rules.
///
/// - `streamkit::*` grants every store;
/// - `streamkit::<uuid>` grants that store (the UUID in any case);
/// - any other scope is ignored;
/// - no `streamkit::` scope at all refuses the token;
/// - a `streamkit::` scope whose suffix is not a UUID refuses the whole token, unless
///   `streamkit::*` came earlier: scopes are read in order and reading stops at `*`.
public struct StoreScopes: Sendable, Hashable {
    /// The scope prefix streamkit uses (`ScopePrefix`).
    public static let prefix = "streamkit::"
    /// The scope that grants every store (`ScopeAllStores`).
    public static let allStoresScope = "streamkit::*"

    /// True when the token grants every store.
    public let allowsAllStores: Bool
    private let stores: Set<WireUUID>

    /// Applies the rules above to `scopes`, in order.
    public init(scopes: some Sequence<String>) throws(JWTRejection) {
        var stores: Set<WireUUID> = []
        for scope in scopes {
            if scope == Self.allStoresScope {
                self.init(allowsAllStores: true, stores: [])
                return
            }
            guard scope.hasPrefix(Self.prefix) else { continue }
            guard let store = WireUUID(anyForm: scope.utf8.dropFirst(Self.prefix.utf8.count)) else {
                throw .invalidStoreScope(scope)
            }
            stores.insert(store)
        }
        guard !stores.isEmpty else { throw .noStoreScope }
        self.init(allowsAllStores: false, stores: stores)
    }

    private init(allowsAllStores: Bool, stores: Set<WireUUID>) {
        self.allowsAllStores = allowsAllStores
        self.stores = stores
    }

    /// True when the token may use the store whose UUID text is `store` (any case). A text that is
    /// not a UUID is never allowed, even with `streamkit::*`.
    public func allows(store: some StringProtocol) -> Bool {
        guard let uuid = WireUUID(anyForm: store.utf8) else { return false }
        return allowsAllStores || stores.contains(uuid)
    }

    /// True when the token may use the store whose UUID is the 16 bytes `storeUUIDBytes`.
    public func allows(storeUUIDBytes bytes: some Collection<UInt8>) -> Bool {
        guard let uuid = WireUUID(bytes: bytes) else { return false }
        return allowsAllStores || stores.contains(uuid)
    }

    /// The granted stores as canonical lowercase UUIDs, sorted; empty when all stores are granted.
    public var storeIDs: [String] {
        stores.map(\.description).sorted()
    }
}
