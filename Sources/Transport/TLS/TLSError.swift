/// A TLS failure: what kind, and the reason in words (OpenSSL's own text where it gave one).
///
/// Every failure of the TLS layer is one of these values, so a connection can log it, map it to a
/// close reason, and move on; none of them is a crash.
public struct TLSError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The broad class of a failure, for callers that react differently to each.
    public enum Kind: Sendable, Hashable {
        /// A certificate, key or CA file is missing or unusable, or the settings are inconsistent.
        case configuration
        /// The handshake failed: no common protocol version, a fatal alert, or bytes that are not TLS.
        case handshake
        /// The peer's certificate did not verify (unknown CA, expired, wrong host name).
        case certificateVerification
        /// The peer broke the protocol after the handshake (bad record, unexpected message).
        case protocolViolation
        /// The connection was already shut down, or failed earlier, when the call was made.
        case closed
        /// A named limit of ``TLSLimits`` was passed.
        case limitExceeded
    }

    /// The broad class of the failure.
    public var kind: Kind
    /// Human-readable text naming the file or step and OpenSSL's reason.
    public var message: String

    /// Creates an error of `kind` with `message`.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The message, as logged.
    public var description: String { message }
}
