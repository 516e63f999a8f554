// The lease messages a lease stream carries by the thousand (a renewal, and the answer to every lease
// request) in the form coordd's encoders write: each member in its place, no spaces, strings without
// escapes (`WireMessage.canonical`; `LeaseMessageDecodingTests` checks both readings agree). In a pipelined
// renewal profile the parser's tree and strings were a tenth of the client's CPU, decoding the answers.

/// A renewal: `{"key":"…","holder":"…","ttl_seconds":N}` with an optional `"ttl_ms":N`.
extension LeaseRenew {
    private static let keyPrefix: StaticString = #"{"key":"#
    private static let holderKey: StaticString = #","holder":"#
    private static let ttlSecondsKey: StaticString = #","ttl_seconds":"#
    private static let ttlMsKey: StaticString = #","ttl_ms":"#

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
