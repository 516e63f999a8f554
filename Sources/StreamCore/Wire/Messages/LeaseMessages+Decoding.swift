// The lease messages a lease stream carries by the thousand (a renewal, and the answer to every lease
// request) in the form coordd's encoders write: each member in its place, no spaces, strings without
// escapes (`WireMessage.canonical`; `LeaseMessageDecodingTests` checks both readings agree). In a pipelined
// renewal profile the parser's tree and strings were a tenth of the client's CPU, decoding the answers.

/// A renewal: `{"key":"…","holder":"…","ttl_seconds":N}` with an optional `"ttl_ms":N`.
extension LeaseRenew {
    private static let keyPrefix = Array(#"{"key":"#.utf8)
    private static let holderKey = Array(#","holder":"#.utf8)
    private static let ttlSecondsKey = Array(#","ttl_seconds":"#.utf8)
    private static let ttlMsKey = Array(#","ttl_ms":"#.utf8)

    /// The renewal in `input` when it is exactly in the encoder's form; nil to let the parser decide.
    public static func canonical(_ input: UnsafeRawBufferPointer) -> LeaseRenew? {
        var cursor = JSONCursor(input: input)
        guard cursor.take(keyPrefix), let key = cursor.plainText(), cursor.take(holderKey), let holder = cursor.plainText(),
              cursor.take(ttlSecondsKey), let ttlSeconds = cursor.nonNegativeInt64()
        else { return nil }
        var ttlMs: Int64?
        if cursor.take(ttlMsKey) {
            guard let value = cursor.nonNegativeInt64() else { return nil }
            ttlMs = value
        }
        guard cursor.take(0x7D), cursor.atEnd else { return nil }
        return LeaseRenew(terms: LeaseTerms(key: key, holder: holder, ttlSeconds: ttlSeconds, ttlMs: ttlMs))
    }
}

/// An answer: `{"ok":true|false}` with the optional `message`, `reason`, `fence`, `holder`, `expires_at`
/// and `ttl_ms` in that order.
extension LeaseResult {
    private static let okTrue = Array(#"{"ok":true"#.utf8)
    private static let okFalse = Array(#"{"ok":false"#.utf8)
    private static let messageKey = Array(#","message":"#.utf8)
    private static let reasonKey = Array(#","reason":"#.utf8)
    private static let fenceKey = Array(#","fence":"#.utf8)
    private static let holderKey = Array(#","holder":"#.utf8)
    private static let expiresAtKey = Array(#","expires_at":"#.utf8)
    private static let ttlMsKey = Array(#","ttl_ms":"#.utf8)

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
