/// Sizes the TLS layer bounds, each with where its value comes from.
public enum TLSLimits {
    /// Largest plaintext a single TLS record carries: 2^14 bytes (RFC 8446 §5.1, RFC 5246 §6.2.1).
    /// The engine decrypts into a scratch buffer of this size, so one `SSL_read` fills at most one.
    public static let maximumRecordPlaintextBytes = 16_384

    /// Plaintext an engine holds while its handshake is still running. A client normally queues one
    /// HTTP upgrade request (a few hundred bytes); 1 MiB leaves ample room while keeping a stalled
    /// handshake from absorbing unbounded memory. Past it, ``TLSEngine/writePlaintext(_:)`` throws.
    public static let maximumPlaintextBeforeHandshakeBytes = 1 << 20

    /// Largest span handed to one `BIO_write` / `SSL_write` call: those APIs take a C `int` length.
    static let maximumBytesPerCall = Int(Int32.max)
}
