import StreamCore
import Transport

/// `coordctl token mint`: an HS256 JWT the daemon accepts when started with the same secret file
/// (`--jwt-hs256-secret-file`), for development and tests. Production tokens come from an identity
/// provider, signed with a key the daemon knows only the public half of.
enum TokenMint {
    /// What the token says.
    struct Claims: Sendable, Equatable {
        /// `scopes`: `streamkit::<store>` for each store, or `streamkit::*` for all.
        var scopes: [String]
        /// `sub`: who the token is for (shown in the daemon's logs).
        var subject: String
        /// `iat`: when it was issued, Unix seconds.
        var issuedAt: Int64
        /// `exp`: when it expires, Unix seconds.
        var expiresAt: Int64

        /// The claims as compact JSON.
        var json: String {
            var w = JSONWriter()
            w.beginObject()
            w.key("sub"); w.string(subject)
            w.key("scopes"); w.beginArray()
            for scope in scopes { w.string(scope) }
            w.endArray()
            w.key("iat"); w.int(issuedAt)
            w.key("exp"); w.int(expiresAt)
            w.endObject()
            return String(decoding: w.bytes, as: UTF8.self)
        }
    }

    /// The token for `claims`, signed with `secret` (the secret file's exact bytes, as the daemon reads it).
    static func hs256(_ claims: Claims, secret: [UInt8]) -> String {
        HS256JWT.sign(claims: Array(claims.json.utf8), secret: secret)
    }
}
