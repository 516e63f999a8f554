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
    private let stores: Set<StoreUUID>

    /// Applies the rules above to `scopes`, in order.
    public init(scopes: some Sequence<String>) throws(JWTRejection) {
        var stores: Set<StoreUUID> = []
        for scope in scopes {
            if scope == Self.allStoresScope {
                self.init(allowsAllStores: true, stores: [])
                return
            }
            guard scope.hasPrefix(Self.prefix) else { continue }
            guard let store = StoreUUID(parsing: scope.utf8.dropFirst(Self.prefix.utf8.count)) else {
                throw .invalidStoreScope(scope)
            }
            stores.insert(store)
        }
        guard !stores.isEmpty else { throw .noStoreScope }
        self.init(allowsAllStores: false, stores: stores)
    }

    private init(allowsAllStores: Bool, stores: Set<StoreUUID>) {
        self.allowsAllStores = allowsAllStores
        self.stores = stores
    }

    /// True when the token may use the store whose UUID text is `store` (any case). A text that is
    /// not a UUID is never allowed, even with `streamkit::*`.
    public func allows(store: some StringProtocol) -> Bool {
        guard let uuid = StoreUUID(parsing: store.utf8) else { return false }
        return allowsAllStores || stores.contains(uuid)
    }

    /// True when the token may use the store whose UUID is the 16 bytes `storeUUIDBytes`.
    public func allows(storeUUIDBytes bytes: some Collection<UInt8>) -> Bool {
        guard let uuid = StoreUUID(bytes: bytes) else { return false }
        return allowsAllStores || stores.contains(uuid)
    }

    /// The granted stores as canonical lowercase UUIDs, sorted; empty when all stores are granted.
    public var storeIDs: [String] {
        stores.map(\.description).sorted()
    }
}

/// A store UUID as 16 bytes (two big-endian words), parsed from text the way Go's `uuid.Parse` is.
struct StoreUUID: Hashable, Sendable, CustomStringConvertible {
    var high: UInt64
    var low: UInt64

    /// Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in any case, and the other forms Go's
    /// `uuid.Parse` accepts so that a token valid for streamkit is valid here: the same wrapped in
    /// `{}`, prefixed with `urn:uuid:`, or 32 hex digits without hyphens.
    init?(parsing text: some Collection<UInt8>) {
        var bytes = Array(text)
        switch bytes.count {
        case 36:
            break
        case 38:
            guard bytes.first == UInt8(ascii: "{"), bytes.last == UInt8(ascii: "}") else { return nil }
            bytes = Array(bytes[1..<37])
        case 45:
            guard String(decoding: bytes[..<9], as: UTF8.self).lowercased() == "urn:uuid:" else { return nil }
            bytes = Array(bytes[9...])
        case 32:
            break
        default:
            return nil
        }
        if bytes.count == 36 {
            for position in [8, 13, 18, 23] where bytes[position] != UInt8(ascii: "-") { return nil }
            bytes.removeAll { $0 == UInt8(ascii: "-") }
            guard bytes.count == 32 else { return nil }
        }
        var words: [UInt64] = [0, 0]
        for (offset, byte) in bytes.enumerated() {
            guard let nibble = Self.hexValue(byte) else { return nil }
            words[offset / 16] = words[offset / 16] << 4 | UInt64(nibble)
        }
        high = words[0]
        low = words[1]
    }

    /// Takes 16 raw bytes, most significant first; nil for any other length.
    init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        var words: [UInt64] = [0, 0]
        for (offset, byte) in bytes.enumerated() {
            words[offset / 8] = words[offset / 8] << 8 | UInt64(byte)
        }
        high = words[0]
        low = words[1]
    }

    /// Canonical lowercase hyphenated text.
    var description: String {
        let hex = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for (index, word) in [high, low].enumerated() {
            for nibble in 0..<16 {
                let position = index * 16 + nibble
                if position == 8 || position == 12 || position == 16 || position == 20 { text.append(UInt8(ascii: "-")) }
                text.append(hex[Int((word >> UInt64(60 - 4 * nibble)) & 0xF)])
            }
        }
        return String(decoding: text, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
