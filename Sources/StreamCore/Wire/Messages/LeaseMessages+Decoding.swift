// The lease messages a lease stream carries by the thousand (a renewal, an operation of `lease_ops`, and
// the answer to every lease request) in the form coordd's encoders write: each member in its place, no
// spaces, strings without escapes (`WireMessage.canonical`; `LeaseMessageDecodingTests` checks both
// readings agree). In a pipelined renewal profile the parser's tree and strings were a tenth of the
// client's CPU, decoding the answers; they were 2.5 % of the daemon's at durable acquires.

/// A renewal's, and an acquire's, terms: `"key":"…","holder":"…","ttl_seconds":N` with an optional
/// `,"ttl_ms":N`, read from the key's value on.
extension LeaseTerms {
    private static let holderKey: StaticString = #","holder":"#
    private static let ttlSecondsKey: StaticString = #","ttl_seconds":"#
    private static let ttlMsKey: StaticString = #","ttl_ms":"#

    /// The terms at the cursor, which stands at the key's value; nil (with the cursor anywhere) for
    /// anything but the encoder's form.
    static func canonicalMembers(at cursor: inout JSONCursor) -> LeaseTerms? {
        guard let key = cursor.plainText(), cursor.take(holderKey), let holder = cursor.plainText(),
              cursor.take(ttlSecondsKey), let ttlSeconds = cursor.nonNegativeInt64()
        else { return nil }
        var ttlMs: Int64?
        if cursor.take(ttlMsKey) {
            guard let value = cursor.nonNegativeInt64() else { return nil }
            ttlMs = value
        }
        return LeaseTerms(key: key, holder: holder, ttlSeconds: ttlSeconds, ttlMs: ttlMs)
    }
}

/// A renewal: `{"key":"…","holder":"…","ttl_seconds":N}` with an optional `"ttl_ms":N`.
extension LeaseRenew {
    private static let keyPrefix: StaticString = #"{"key":"#

    /// The renewal in `input` when it is exactly in the encoder's form; nil to let the parser decide.
    public static func canonical(_ input: UnsafeRawBufferPointer) -> LeaseRenew? {
        JSONCursor.whole(input) { cursor in
            guard cursor.take(keyPrefix), let terms = LeaseTerms.canonicalMembers(at: &cursor), cursor.take(0x7D)
            else { return nil }
            return LeaseRenew(terms: terms)
        }
    }
}

/// A message of a `lease_ops` stream, as many as a service has leases: `{"op":"acquire",` the terms with an
/// optional `,"worker_id":"…"` `}`, `{"op":"renew",` the terms `}`, or `{"op":"release","key":"…","holder":"…"}`.
extension LeaseOperation {
    private static let acquirePrefix: StaticString = #"{"op":"acquire","key":"#
    private static let renewPrefix: StaticString = #"{"op":"renew","key":"#
    private static let releasePrefix: StaticString = #"{"op":"release","key":"#
    private static let holderKey: StaticString = #","holder":"#
    private static let workerIDKey: StaticString = #","worker_id":"#

    /// The operation in `input` when it is exactly in the encoder's form; nil to let the parser decide.
    public static func canonical(_ input: UnsafeRawBufferPointer) -> LeaseOperation? {
        JSONCursor.whole(input) { cursor in
            let operation: LeaseOperation
            if cursor.take(acquirePrefix) {
                guard let terms = LeaseTerms.canonicalMembers(at: &cursor) else { return nil }
                var workerID: WireUUID?
                if cursor.take(workerIDKey) {
                    guard let id = cursor.hyphenatedUUID() else { return nil }
                    workerID = id.isNil ? nil : id
                }
                operation = .acquire(LeaseAcquire(terms: terms, workerID: workerID))
            } else if cursor.take(renewPrefix) {
                guard let terms = LeaseTerms.canonicalMembers(at: &cursor) else { return nil }
                operation = .renew(LeaseRenew(terms: terms))
            } else if cursor.take(releasePrefix) {
                guard let key = cursor.plainText(), cursor.take(holderKey), let holder = cursor.plainText() else { return nil }
                operation = .release(LeaseRelease(key: key, holder: holder))
            } else {
                return nil
            }
            return cursor.take(0x7D) ? operation : nil
        }
    }
}

/// An answer: `{"ok":true|false}` with the optional `message`, `reason`, `fence`, `holder`, `expires_at`
/// and `ttl_ms` in that order.
extension LeaseResult {
    private static let okTrue: StaticString = #"{"ok":true"#
    private static let okFalse: StaticString = #"{"ok":false"#
    private static let messageKey: StaticString = #","message":"#
    private static let reasonKey: StaticString = #","reason":"#
    private static let fenceKey: StaticString = #","fence":"#
    private static let holderKey: StaticString = #","holder":"#
    private static let expiresAtKey: StaticString = #","expires_at":"#
    private static let ttlMsKey: StaticString = #","ttl_ms":"#

    /// The answer in `input` when it is exactly in the encoder's form; nil to let the parser decide.
    public static func canonical(_ input: UnsafeRawBufferPointer) -> LeaseResult? {
        var cursor = JSONCursor(input: input)
        var result: LeaseResult
        if cursor.take(okTrue) {
            result = LeaseResult(ok: true)
        } else if cursor.take(okFalse) {
            result = LeaseResult(ok: false)
        } else {
            return nil
        }
        if cursor.take(messageKey) {
            guard let message = cursor.plainText() else { return nil }
            result.message = message
        }
        if cursor.take(reasonKey) {
            guard let reason = cursor.plainText() else { return nil }
            result.reason = reason
        }
        if cursor.take(fenceKey) {
            guard let fence = cursor.nonNegativeInt64() else { return nil }
            result.fence = UInt64(fence)
        }
        if cursor.take(holderKey) {
            guard let holder = cursor.plainText() else { return nil }
            result.holder = holder
        }
        if cursor.take(expiresAtKey) {
            guard let expiresAt = cursor.nonNegativeInt64() else { return nil }
            result.expiresAt = expiresAt
        }
        if cursor.take(ttlMsKey) {
            guard let ttlMs = cursor.nonNegativeInt64() else { return nil }
            result.ttlMs = ttlMs
        }
        guard cursor.take(0x7D), cursor.atEnd else { return nil }
        return result
    }
}
