import COpenSSL

/// One-shot message digests through OpenSSL's EVP interface.
public enum Digest {
    /// SHA-256 of `bytes` (32 bytes).
    public static func sha256(_ bytes: some Collection<UInt8>) -> [UInt8] {
        digest(bytes, EVP_sha256())
    }

    /// SHA-1 of `bytes` (20 bytes). Only for protocols that mandate it, such as the WebSocket
    /// `Sec-WebSocket-Accept` header (RFC 6455 §4.2.2); never for anything security-relevant.
    public static func sha1(_ bytes: some Collection<UInt8>) -> [UInt8] {
        digest(bytes, EVP_sha1())
    }

    private static func digest(_ bytes: some Collection<UInt8>, _ algorithm: OpaquePointer?) -> [UInt8] {
        OpenSSLBuffers.withContiguousBytes(of: bytes) { input in
            var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
            var length: UInt32 = 0
            let ok = output.withUnsafeMutableBufferPointer { out in
                EVP_Digest(input.baseAddress, input.count, out.baseAddress, &length, algorithm, nil)
            }
            // A built-in digest over memory fails only when OpenSSL cannot allocate, and then the
            // process is already out of memory.
            precondition(ok == 1, "EVP_Digest failed: \(OpenSSLErrorQueue.drainedReason(fallback: "no reason"))")
            output.removeLast(output.count - Int(length))
            return output
        }
    }
}
