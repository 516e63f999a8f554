import COpenSSL

/// HMAC with SHA-256 (RFC 2104, RFC 4231): the signature of JWT `HS256` tokens.
public enum HMACSHA256 {
    /// Length of an HMAC-SHA256 code in bytes.
    public static let codeBytes = 32

    /// The HMAC-SHA256 of `message` under `key`.
    public static func authenticationCode(key: some Collection<UInt8>, message: some Collection<UInt8>) -> [UInt8] {
        OpenSSLBuffers.withContiguousBytes(of: key) { key in
            OpenSSLBuffers.withContiguousBytes(of: message) { message in
                // HMAC takes the key length as a C int; longer keys are hashed first (RFC 2104 §3),
                // so hashing here gives the same code as OpenSSL would for a key it could accept.
                if key.count > Int(Int32.max) {
                    let hashed = Digest.sha256(key)
                    return authenticationCode(key: hashed, message: message)
                }
                var code = [UInt8](repeating: 0, count: codeBytes)
                var length: UInt32 = 0
                let result = code.withUnsafeMutableBufferPointer { out in
                    HMAC(
                        EVP_sha256(), key.baseAddress, Int32(key.count),
                        message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count,
                        out.baseAddress, &length)
                }
                // One-shot HMAC with a built-in digest fails only when OpenSSL cannot allocate.
                precondition(result != nil && length == UInt32(codeBytes), "HMAC-SHA256 failed")
                return code
            }
        }
    }

    /// True when `code` is the HMAC-SHA256 of `message` under `key`. The comparison takes the same
    /// time wherever the first differing byte is (`CRYPTO_memcmp`), so it reveals nothing about
    /// how close a forged code came.
    public static func isValid(
        _ code: some Collection<UInt8>, key: some Collection<UInt8>, message: some Collection<UInt8>
    ) -> Bool {
        let expected = authenticationCode(key: key, message: message)
        return OpenSSLBuffers.withContiguousBytes(of: code) { code in
            guard code.count == expected.count else { return false }
            return expected.withUnsafeBytes { expected in
                CRYPTO_memcmp(expected.baseAddress, code.baseAddress, expected.count) == 0
            }
        }
    }
}
