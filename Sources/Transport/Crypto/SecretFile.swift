import COpenSSL

/// Reads small secret files (HMAC keys, PEM keys) through OpenSSL's file BIO, so a missing or
/// unreadable file is reported with the operating system's reason.
public enum SecretFile {
    /// The exact bytes of the file at `path` (no trimming: a trailing newline is part of the secret).
    ///
    /// Throws when the file cannot be opened or read, or is larger than `maximumBytes`.
    public static func contents(
        ofFile path: String, maximumBytes: Int = CryptoLimits.maximumKeyFileBytes
    ) throws(CryptoError) -> [UInt8] {
        OpenSSLErrorQueue.clear()
        guard let file = BIO_new_file(path, "rb") else {
            throw CryptoError("cannot open \(path): \(OpenSSLErrorQueue.drainedReason(fallback: "BIO_new_file failed"))")
        }
        defer { BIO_free(file) }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            var read = 0
            let ok = chunk.withUnsafeMutableBytes { BIO_read_ex(file, $0.baseAddress, $0.count, &read) }
            if ok != 1 || read == 0 {
                // BIO_read_ex reports end of file as a failed read with nothing queued.
                let reasons = OpenSSLErrorQueue.drain()
                if !reasons.isEmpty {
                    throw CryptoError("cannot read \(path): \(reasons.joined(separator: "; "))")
                }
                break
            }
            contents.append(contentsOf: chunk[..<read])
            if contents.count > maximumBytes {
                throw CryptoError("\(path) is larger than \(maximumBytes) bytes (CryptoLimits.maximumKeyFileBytes); is it the right file?")
            }
        }
        return contents
    }
}
