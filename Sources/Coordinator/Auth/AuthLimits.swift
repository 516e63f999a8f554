import StreamCore

/// Bounds and policy values of bearer-token authentication, each with where it comes from.
public enum AuthLimits {
    /// Clock difference tolerated between the token issuer and this daemon when checking `exp` and
    /// `nbf` (RFC 7519 §4.1.4 allows "a small leeway, usually no more than a few minutes").
    public static let clockSkewLeewaySeconds: Int64 = 60

    /// Longest token accepted. A token rides in an HTTP header; common proxies cap a header line at
    /// 8–16 KiB, and 16 KiB still holds a few hundred per-store scopes.
    public static let maximumTokenBytes = 16 * 1024

    /// Deepest nesting of arrays and objects in a token's header or claims. Claims are flat in
    /// practice; the bound keeps a hostile token from recursing the parser deep.
    public static let maximumJSONDepth = 16

    /// How a token's header and claims are parsed: the strict grammar (a duplicate key, such as two
    /// `exp` claims, or invalid Unicode is refused rather than read one of two ways), at most
    /// ``maximumJSONDepth`` deep and no longer than a whole token.
    public static let claimsJSON = JSONLimits.strict(maxDepth: maximumJSONDepth, maxBytes: maximumTokenBytes)

    /// Shortest HS256 secret accepted: "a key of the same size as the hash output (for instance,
    /// 256 bits for HS256) or larger MUST be used" (RFC 7518 §3.2).
    public static let minimumHMACSecretBytes = 32

    /// Smallest RSA modulus accepted for RS256: "a key of size 2048 bits or larger MUST be used"
    /// (RFC 7518 §3.3).
    public static let minimumRSAKeyBits = 2048
}
