import COpenSSL

/// One TLS connection over memory BIOs: ciphertext in and out as bytes, plaintext in and out as bytes.
///
/// The engine owns no socket and no thread. The connection that owns the socket drives it:
///
/// 1. a client calls ``startHandshake()``; both sides send whatever ``takeCiphertext()`` returns;
/// 2. bytes read from the socket go to ``feedCiphertext(_:)``, then ``readPlaintext(_:)`` advances
///    the handshake and hands over the application data that arrived, then ``takeCiphertext()``
///    again (the handshake and alerts produce bytes to send while reading);
/// 3. application data goes to ``writePlaintext(_:)`` followed by ``takeCiphertext()``;
/// 4. ``shutdown()`` queues close_notify; send it, then close the socket.
///
/// `SSL_ERROR_WANT_READ` / `WANT_WRITE` never reach the caller: they mean "feed me more" or
/// "take my output", which the steps above already do. Every failure is a ``TLSError`` (and the
/// engine's ``state`` becomes ``State/failed(_:)``); any alert OpenSSL wrote for the peer is still
/// available from ``takeCiphertext()`` so the peer learns why.
///
/// Not `Sendable`: an engine belongs to the loop thread that owns its connection.
public final class TLSEngine {
    /// Where the connection is in its life.
    public enum State: Sendable, Hashable {
        /// The handshake has not finished; plaintext written now is queued.
        case handshaking
        /// The handshake finished; data flows both ways.
        case established
        /// The peer sent close_notify: no more plaintext will arrive. Writing is still possible
        /// until ``TLSEngine/shutdown()``.
        case peerClosed
        /// ``TLSEngine/shutdown()`` was called.
        case closed
        /// A handshake, verification or protocol failure ended the connection.
        case failed(TLSError)
    }

    /// What one ``TLSEngine/readPlaintext(_:)`` call did.
    public struct ReadResult: Sendable, Hashable {
        /// Plaintext bytes delivered by this call.
        public var plaintextBytes: Int = 0
        /// True when the handshake finished during this call (exactly once per engine).
        public var handshakeCompleted: Bool = false
        /// True when this call received the peer's close_notify.
        public var peerClosed: Bool = false
    }

    /// The engine's current state.
    public private(set) var state: State = .handshaking
    /// Server or client, from the context.
    public let role: TLSConfiguration.Role

    /// The `SSL *`; owns both BIOs.
    private let ssl: OpaquePointer
    /// Memory BIO OpenSSL reads ciphertext from (filled by `feedCiphertext`).
    private let networkInput: OpaquePointer
    /// Memory BIO OpenSSL writes ciphertext to (drained by `takeCiphertext`).
    private let networkOutput: OpaquePointer
    /// Plaintext accepted by `writePlaintext` but not yet encrypted: written before the handshake
    /// finished, or left over when OpenSSL asked to read first. Always flushed in order.
    private var pendingPlaintext: [UInt8] = []
    /// A failure found by a call that does not throw (`feedCiphertext`), reported by the next one that does.
    private var deferredFailure: TLSError?

    /// A server-side engine for one accepted connection.
    public static func server(context: TLSContext) throws(TLSError) -> TLSEngine {
        precondition(context.configuration.role == .server, "TLSEngine.server needs a server TLSContext")
        return try TLSEngine(context: context, serverName: nil)
    }

    /// A client-side engine that verifies the server's certificate for `serverName` (a DNS name or
    /// an IP address literal) and sends it as SNI when it is a DNS name.
    public static func client(context: TLSContext, serverName: String) throws(TLSError) -> TLSEngine {
        precondition(context.configuration.role == .client, "TLSEngine.client needs a client TLSContext")
        precondition(!serverName.isEmpty, "a TLS client must name the server it expects")
        return try TLSEngine(context: context, serverName: serverName)
    }

    private init(context: TLSContext, serverName: String?) throws(TLSError) {
        role = context.configuration.role
        OpenSSLErrorQueue.clear()
        guard let ssl = SSL_new(context.context) else {
            throw TLSError(.configuration, "cannot create a TLS connection: \(OpenSSLErrorQueue.drainedReason(fallback: "SSL_new failed"))")
        }
        guard let input = BIO_new(BIO_s_mem()), let output = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSError(.configuration, "cannot create memory BIOs: \(OpenSSLErrorQueue.drainedReason(fallback: "BIO_new failed"))")
        }
        SSL_set_bio(ssl, input, output)  // `ssl` owns both BIOs from here on
        self.ssl = ssl
        networkInput = input
        networkOutput = output
        coordd_SSL_set_partial_moving_write_mode(ssl)

        if let serverName {
            try expectServer(named: serverName)
            SSL_set_connect_state(ssl)
        } else {
            SSL_set_accept_state(ssl)
        }
    }

    deinit {
        SSL_free(ssl)
    }

    private func expectServer(named name: String) throws(TLSError) {
        OpenSSLErrorQueue.clear()
        if coordd_is_ip_address(name) == 0 {
            guard coordd_SSL_set_tlsext_host_name(ssl, name) == 1 else {
                throw TLSError(.configuration, "cannot send \(name) as the server name: \(OpenSSLErrorQueue.drainedReason(fallback: "rejected"))")
            }
        }
        SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
        guard SSL_set1_host(ssl, name) == 1 else {
            throw TLSError(.configuration, "cannot verify the server as \(name): \(OpenSSLErrorQueue.drainedReason(fallback: "rejected"))")
        }
    }

    // MARK: State

    /// True once the handshake has finished (also after a later close).
    public var isHandshakeComplete: Bool {
        switch state {
        case .handshaking: false
        case .established, .peerClosed: true
        case .closed, .failed: SSL_is_init_finished(ssl) == 1
        }
    }

    /// The negotiated protocol, e.g. `TLSv1.3`, once the handshake has finished.
    public var negotiatedProtocol: String? {
        guard isHandshakeComplete, let name = SSL_get_version(ssl) else { return nil }
        return String(cString: name)
    }

    /// Ciphertext bytes waiting to be sent.
    public var pendingCiphertextBytes: Int {
        Int(BIO_ctrl_pending(networkOutput))
    }

    // MARK: Ciphertext

    /// Hands the engine ciphertext that arrived from the peer. Nothing is decrypted until
    /// ``readPlaintext(_:)``. Bytes fed after the engine closed or failed are discarded.
    public func feedCiphertext(_ bytes: UnsafeRawBufferPointer) {
        switch state {
        case .closed, .failed: return
        case .handshaking, .established, .peerClosed: break
        }
        var offset = 0
        while offset < bytes.count, deferredFailure == nil {
            OpenSSLErrorQueue.clear()
            let chunk = min(bytes.count - offset, TLSLimits.maximumBytesPerCall)
            var written = 0
            if BIO_write_ex(networkInput, bytes.baseAddress.map { $0 + offset }, chunk, &written) == 1 {
                offset += written
            } else {
                deferredFailure = TLSError(
                    .limitExceeded,
                    "cannot buffer received ciphertext: \(OpenSSLErrorQueue.drainedReason(fallback: "BIO_write failed"))")
            }
        }
    }

    /// Hands the engine ciphertext that arrived from the peer (see ``feedCiphertext(_:)-(UnsafeRawBufferPointer)``).
    public func feedCiphertext(_ bytes: some Collection<UInt8>) {
        OpenSSLBuffers.withContiguousBytes(of: bytes) { feedCiphertext($0) }
    }

    /// Removes and returns the ciphertext to send to the peer, or nil when there is none.
    public func takeCiphertext() -> [UInt8]? {
        let pending = Int(BIO_ctrl_pending(networkOutput))
        guard pending > 0 else { return nil }
        let bytes = [UInt8](unsafeUninitializedCapacity: pending) { buffer, count in
            var read = 0
            // A memory BIO hands back exactly what it holds; `read` is `pending` unless OpenSSL fails.
            if BIO_read_ex(networkOutput, buffer.baseAddress, pending, &read) != 1 { read = 0 }
            count = read
        }
        return bytes.isEmpty ? nil : bytes
    }

    // MARK: Handshake

    /// Starts the handshake. For a client this queues the ClientHello (send it with
    /// ``takeCiphertext()``); a server waits for the ClientHello, so for it this does nothing.
    /// Once started, further calls do nothing: ``readPlaintext(_:)`` carries the handshake on.
    public func startHandshake() throws(TLSError) {
        try throwIfFailed()
        guard state == .handshaking, role == .client, SSL_in_before(ssl) == 1 else { return }
        _ = try advanceHandshake()
    }

    /// Runs `SSL_do_handshake` as far as the fed bytes allow; returns true when it finished now.
    private func advanceHandshake() throws(TLSError) -> Bool {
        OpenSSLErrorQueue.clear()
        let rc = SSL_do_handshake(ssl)
        if rc == 1 {
            state = .established
            try flushPendingPlaintext()
            return true
        }
        let code = SSL_get_error(ssl, rc)
        switch code {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return false
        default:
            throw fail(code: code, duringHandshake: true)
        }
    }

    // MARK: Plaintext

    /// Advances the handshake if needed, then decrypts every complete record fed so far and passes
    /// each record's plaintext to `body` in order. The buffer is valid only during the call.
    @discardableResult
    public func readPlaintext(_ body: (UnsafeRawBufferPointer) -> Void) throws(TLSError) -> ReadResult {
        try throwIfFailed()
        var result = ReadResult()
        switch state {
        case .handshaking:
            result.handshakeCompleted = try advanceHandshake()
            if !result.handshakeCompleted { return result }
        case .established:
            try flushPendingPlaintext()
        case .peerClosed, .closed, .failed:
            return result
        }
        try withUnsafeTemporaryAllocation(byteCount: TLSLimits.maximumRecordPlaintextBytes, alignment: 1) {
            (scratch) throws(TLSError) -> Void in
            while state == .established {
                OpenSSLErrorQueue.clear()
                var count = 0
                if SSL_read_ex(ssl, scratch.baseAddress, scratch.count, &count) == 1 {
                    result.plaintextBytes += count
                    body(UnsafeRawBufferPointer(rebasing: scratch[..<count]))
                    continue
                }
                let code = SSL_get_error(ssl, 0)
                switch code {
                case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                    return
                case SSL_ERROR_ZERO_RETURN:
                    state = .peerClosed
                    result.peerClosed = true
                    return
                default:
                    throw fail(code: code, duringHandshake: false)
                }
            }
        }
        return result
    }

    /// Like ``readPlaintext(_:)``, appending the plaintext to `buffer`.
    @discardableResult
    public func readPlaintext(into buffer: inout [UInt8]) throws(TLSError) -> ReadResult {
        try readPlaintext { buffer.append(contentsOf: $0) }
    }

    /// Encrypts `bytes` for the peer; collect the records with ``takeCiphertext()``.
    ///
    /// Before the handshake finishes the bytes are queued (up to
    /// ``TLSLimits/maximumQueuedPlaintextBytes``, past which the engine fails with
    /// ``TLSError/Kind/limitExceeded``) and sent as soon as it does; a client that has not started
    /// its handshake starts it here.
    public func writePlaintext(_ bytes: UnsafeRawBufferPointer) throws(TLSError) {
        try throwIfFailed()
        guard !bytes.isEmpty else { return }
        switch state {
        case .closed, .failed:
            throw TLSError(.closed, "cannot write: the TLS connection was shut down")
        case .handshaking:
            try queue(bytes)
            try startHandshake()
        case .established, .peerClosed:
            if pendingPlaintext.isEmpty {
                let written = try encrypt(bytes)
                if written < bytes.count { try queue(UnsafeRawBufferPointer(rebasing: bytes[written...])) }
            } else {
                try queue(bytes)
                try flushPendingPlaintext()
            }
        }
    }

    /// Encrypts `bytes` for the peer (see ``writePlaintext(_:)-(UnsafeRawBufferPointer)``).
    public func writePlaintext(_ bytes: some Collection<UInt8>) throws(TLSError) {
        try OpenSSLBuffers.withContiguousBytes(of: bytes) { (buffer) throws(TLSError) in try writePlaintext(buffer) }
    }

    /// Queues close_notify for the peer (send it with ``takeCiphertext()``, then close the socket;
    /// the peer's own close_notify need not be awaited). Plaintext still queued is encrypted first
    /// when the handshake has finished and dropped when it has not. Calling it again does nothing.
    public func shutdown() {
        switch state {
        case .closed, .failed:
            return
        case .handshaking:
            // Nothing was established, so there is nothing to close politely.
            pendingPlaintext = []
        case .established, .peerClosed:
            if (try? flushPendingPlaintext()) == nil { return }
            OpenSSLErrorQueue.clear()
            _ = SSL_shutdown(ssl)
            OpenSSLErrorQueue.clear()
        }
        state = .closed
    }

    // MARK: Helpers

    private func throwIfFailed() throws(TLSError) {
        if case .failed(let error) = state { throw error }
        if let failure = deferredFailure {
            state = .failed(failure)
            throw failure
        }
    }

    private func queue(_ bytes: UnsafeRawBufferPointer) throws(TLSError) {
        guard pendingPlaintext.count + bytes.count <= TLSLimits.maximumQueuedPlaintextBytes else {
            throw fail(TLSError(
                .limitExceeded,
                "more than \(TLSLimits.maximumQueuedPlaintextBytes) bytes of plaintext queued (TLSLimits.maximumQueuedPlaintextBytes)"))
        }
        pendingPlaintext.append(contentsOf: bytes)
    }

    private func flushPendingPlaintext() throws(TLSError) {
        guard !pendingPlaintext.isEmpty else { return }
        // Taken out of the property first: a failure inside `encrypt` clears `pendingPlaintext`,
        // which must not happen while the same array is being read.
        let pending = pendingPlaintext
        pendingPlaintext = []
        let written = try OpenSSLBuffers.withContiguousBytes(of: pending) { (bytes) throws(TLSError) in try encrypt(bytes) }
        if case .failed = state { return }
        if written < pending.count { pendingPlaintext = Array(pending[written...]) }
    }

    /// Encrypts as much of `bytes` as OpenSSL accepts now; returns how many bytes it took. With a
    /// memory BIO that is all of them, unless the peer started something that must be read first.
    private func encrypt(_ bytes: UnsafeRawBufferPointer) throws(TLSError) -> Int {
        var offset = 0
        while offset < bytes.count {
            OpenSSLErrorQueue.clear()
            let chunk = min(bytes.count - offset, TLSLimits.maximumBytesPerCall)
            var written = 0
            if SSL_write_ex(ssl, bytes.baseAddress.map { $0 + offset }, chunk, &written) == 1 {
                offset += written
                continue
            }
            let code = SSL_get_error(ssl, 0)
            switch code {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                return offset
            default:
                throw fail(code: code, duringHandshake: false)
            }
        }
        return offset
    }

    /// Builds the error for a failed `SSL_*` call, records it as the state, and returns it.
    private func fail(code: Int32, duringHandshake: Bool) -> TLSError {
        let reasons = OpenSSLErrorQueue.drain()
        let reasonText = reasons.joined(separator: "; ")
        let verifyResult = SSL_get_verify_result(ssl)
        let error: TLSError
        if duringHandshake && verifyResult != X509_V_OK {
            let verifyText = X509_verify_cert_error_string(verifyResult).map { String(cString: $0) } ?? "code \(verifyResult)"
            error = TLSError(
                .certificateVerification,
                "peer certificate verification failed: \(verifyText)" + (reasons.isEmpty ? "" : " (\(reasonText))"))
        } else if code == SSL_ERROR_ZERO_RETURN {
            error = TLSError(.handshake, "the peer closed the connection during the TLS handshake")
        } else if reasons.isEmpty {
            // With memory BIOs there is no system call to blame; say which step stopped.
            let step = duringHandshake ? "TLS handshake" : "TLS connection"
            error = TLSError(duringHandshake ? .handshake : .protocolViolation, "\(step) failed (SSL error \(code))")
        } else if duringHandshake {
            error = TLSError(.handshake, "TLS handshake failed: \(reasonText)")
        } else {
            error = TLSError(.protocolViolation, "TLS connection failed: \(reasonText)")
        }
        return fail(error)
    }

    private func fail(_ error: TLSError) -> TLSError {
        state = .failed(error)
        pendingPlaintext = []
        return error
    }
}
