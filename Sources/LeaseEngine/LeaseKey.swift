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
        sameBytes(lhs.string, rhs.string)
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
    sameBytes(lhs, rhs)
}

/// True when two strings have the same UTF-8 bytes. Compares the lengths, then the contiguous bytes of
/// native strings eight at a time: `elementsEqual` on the UTF-8 views walks them a byte at a time through
/// the generic collection path, which was a tenth of a lease renewal's time in the engine's table lookups,
/// and on buffers still a byte at a time (2 % of a pipelined renewal's daemon CPU).
func sameBytes(_ lhs: String, _ rhs: String) -> Bool {
    let (left, right) = (lhs.utf8, rhs.utf8)
    guard left.count == right.count else { return false }
    let contiguous = left.withContiguousStorageIfAvailable { l in
        right.withContiguousStorageIfAvailable { r in sameBytes(UnsafeRawBufferPointer(l), UnsafeRawBufferPointer(r)) }
    }
    return contiguous.flatMap { $0 } ?? left.elementsEqual(right)
}

/// True when two buffers of the same length hold the same bytes, compared a machine word at a time.
func sameBytes(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer) -> Bool {
    precondition(left.count == right.count, "sameBytes compares buffers of one length")
    let count = left.count
    var offset = 0
    while offset + 8 <= count {
        guard left.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            == right.loadUnaligned(fromByteOffset: offset, as: UInt64.self) else { return false }
        offset += 8
    }
    while offset < count {
        guard left[offset] == right[offset] else { return false }
        offset += 1
    }
    return true
}
