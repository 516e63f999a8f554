/// A lease key compared, hashed and ordered by its UTF-8 bytes.
///
/// Swift's `String` equality uses Unicode canonical equivalence, so "é" and "e\u{301}" would name the same
/// lease, and `hasPrefix` works on whole characters. Clients (streamkit's Go ones included) treat keys as
/// byte strings, and the log stores bytes, so the lease table does too: two keys are the same lease exactly
/// when their bytes are equal, `list` matches prefixes byte-wise, and keys sort in byte (= code point) order.
struct LeaseKey: Hashable, Comparable, Sendable {
    let string: String

    init(_ string: String) { self.string = string }

    static func == (lhs: LeaseKey, rhs: LeaseKey) -> Bool {
        lhs.string.utf8.elementsEqual(rhs.string.utf8)
    }

    static func < (lhs: LeaseKey, rhs: LeaseKey) -> Bool {
        lhs.string.utf8.lexicographicallyPrecedes(rhs.string.utf8)
    }

    func hash(into hasher: inout Hasher) {
        let hashedContiguously: Void? = string.utf8.withContiguousStorageIfAvailable { buffer in
            hasher.combine(bytes: UnsafeRawBufferPointer(buffer))
        }
        if hashedContiguously == nil {
            for byte in string.utf8 { hasher.combine(byte) }
        }
        // Terminates the byte run so that hashing stays prefix-free if a key is ever combined with more.
        hasher.combine(string.utf8.count)
    }

    func hasPrefix(_ prefix: String) -> Bool {
        string.utf8.starts(with: prefix.utf8)
    }
}

/// Whether two holders are the same holder: byte-wise, like keys (see `LeaseKey`).
func isSameHolder(_ lhs: String, _ rhs: String) -> Bool {
    lhs.utf8.elementsEqual(rhs.utf8)
}
