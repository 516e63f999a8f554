/// Sizes the TLS layer bounds, each with where its value comes from.
public enum TLSLimits {
    /// Largest plaintext a single TLS record carries: 2^14 bytes (RFC 8446 §5.1, RFC 5246 §6.2.1).
    /// The engine decrypts into a scratch buffer of this size, so one `SSL_read` fills at most one.
    public static let maximumRecordPlaintextBytes = 16_384

    /// Plaintext an engine holds unencrypted: written while the handshake is still running, or
    /// left over when OpenSSL must read before it can write. A client normally queues one HTTP
    /// upgrade request (a few hundred bytes); 1 MiB leaves ample room while keeping a stalled
    /// handshake from absorbing unbounded memory. Past it, ``TLSEngine/writePlaintext(_:)`` throws.
    public static let maximumQueuedPlaintextBytes = 1 << 20

    /// Largest span handed to one `BIO_write_ex` / `SSL_write_ex` call: OpenSSL counts in C `int`
    /// inside the memory BIO and the record layer, so larger spans are written in pieces.
    static let maximumBytesPerCall = Int(Int32.max)
}
