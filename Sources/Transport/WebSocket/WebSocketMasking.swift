import COpenSSL

/// RFC 6455 §5.3 masking: every payload byte `i` is XORed with byte `i % 4` of a 4-byte key.
///
/// Every mux message crosses this code, so it works on 8-byte words (unaligned loads and stores)
/// rather than bytes; the key is spread into a repeating 8-byte pattern once per call.
enum WebSocketMasking {
    /// The key repeated twice, rotated so that pattern byte 0 applies to the first byte handled.
    @inline(__always)
    static func pattern(key: UInt32, keyOffset: Int) -> UInt64 {
        var pattern: UInt64 = 0
        withUnsafeBytes(of: key) { keyBytes in
            withUnsafeMutableBytes(of: &pattern) { out in
                for i in 0..<8 { out[i] = keyBytes[(keyOffset &+ i) & 3] }
            }
        }
        return pattern
    }

    /// XORs `buffer` in place; `keyOffset` is how many payload bytes precede it (mod 4 is taken).
    static func apply(key: UInt32, keyOffset: Int, to buffer: UnsafeMutableRawBufferPointer) {
        // Reading and writing the same bytes in the same order is a correct in-place XOR.
        copy(UnsafeRawBufferPointer(buffer), to: buffer, key: key, keyOffset: keyOffset)
    }

    /// Copies `source` into `destination` (same length) XORing on the way: one pass instead of a copy
    /// followed by `apply`.
    static func copy(
        _ source: UnsafeRawBufferPointer, to destination: UnsafeMutableRawBufferPointer, key: UInt32, keyOffset: Int
    ) {
        precondition(source.count == destination.count, "masking copy needs equal lengths")
        guard let from = source.baseAddress, let to = destination.baseAddress else { return }
        let word = pattern(key: key, keyOffset: keyOffset)
        let count = source.count
        var i = 0
        while i &+ 32 <= count {
            // Four independent words per round let the compiler keep them in flight together.
            let a = from.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let b = from.loadUnaligned(fromByteOffset: i &+ 8, as: UInt64.self)
            let c = from.loadUnaligned(fromByteOffset: i &+ 16, as: UInt64.self)
            let d = from.loadUnaligned(fromByteOffset: i &+ 24, as: UInt64.self)
            to.storeBytes(of: a ^ word, toByteOffset: i, as: UInt64.self)
            to.storeBytes(of: b ^ word, toByteOffset: i &+ 8, as: UInt64.self)
            to.storeBytes(of: c ^ word, toByteOffset: i &+ 16, as: UInt64.self)
            to.storeBytes(of: d ^ word, toByteOffset: i &+ 24, as: UInt64.self)
            i &+= 32
        }
        while i &+ 8 <= count {
            let a = from.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            to.storeBytes(of: a ^ word, toByteOffset: i, as: UInt64.self)
            i &+= 8
        }
        // `i` is a multiple of 8 here, so the tail starts at pattern byte 0.
        withUnsafeBytes(of: word) { wordBytes in
            var k = 0
            while i < count {
                let byte = from.load(fromByteOffset: i, as: UInt8.self)
                to.storeBytes(of: byte ^ wordBytes[k], toByteOffset: i, as: UInt8.self)
                i &+= 1
                k &+= 1
            }
        }
    }
}

/// Cryptographically secure random bytes from OpenSSL's `RAND_bytes`.
enum SecureRandom {
    /// Fills `buffer`. Should OpenSSL's generator ever fail (it cannot reach the kernel's entropy),
    /// the standard library's generator, which reads the same kernel source (`getrandom`), fills it
    /// instead: both are cryptographically secure, and a handshake key or mask never goes unrandom.
    static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        let count = Int32(clamping: buffer.count)
        if count == buffer.count, RAND_bytes(base.assumingMemoryBound(to: UInt8.self), count) == 1 { return }
        var generator = SystemRandomNumberGenerator()
        for i in 0..<buffer.count { buffer[i] = generator.next() }
    }

    /// A generator over ``fill(_:)``: OpenSSL's generator runs in user space, where the standard
    /// library's makes a `getrandom` system call per value (two per random UUID).
    struct Generator: RandomNumberGenerator {
        mutating func next() -> UInt64 {
            var value: UInt64 = 0
            withUnsafeMutableBytes(of: &value) { SecureRandom.fill($0) }
            return value
        }
    }

    /// `count` random bytes.
    static func bytes(_ count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            fill(UnsafeMutableRawBufferPointer(buffer))
            initialized = count
        }
    }
}

/// Masking keys for a client connection, drawn from `RAND_bytes` a pool at a time so a frame costs an
/// array read rather than a call into OpenSSL. Keys stay unpredictable (RFC 6455 §10.3): each is fresh
/// CSPRNG output, never derived from an earlier one.
struct MaskKeyPool: Sendable {
    /// Keys fetched per `RAND_bytes` call: 256 keys, one KiB (coordd's choice).
    static let keysPerRefill = 256

    private var keys: [UInt32] = []
    private var next = 0

    /// A fresh key.
    mutating func nextKey() -> UInt32 {
        if next == keys.count {
            if keys.isEmpty { keys = [UInt32](repeating: 0, count: Self.keysPerRefill) }
            keys.withUnsafeMutableBytes { SecureRandom.fill($0) }
            next = 0
        }
        defer { next += 1 }
        return keys[next]
    }
}
