/// A key or secret that could not be loaded, with the file and OpenSSL's reason.
public struct CryptoError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Human-readable text naming the file or step and the reason.
    public var message: String

    /// Creates an error with `message`.
    public init(_ message: String) {
        self.message = message
    }

    /// The message, as logged.
    public var description: String { message }
}

/// Sizes the crypto functions bound, each with where its value comes from.
public enum CryptoLimits {
    /// Largest secret or PEM key file read. An HMAC secret or a public key is at most a few KiB
    /// (an RSA-16384 public key in PEM is about 3 KiB); 64 KiB refuses a wrong path such as a log file.
    public static let maximumKeyFileBytes = 64 * 1024
}
