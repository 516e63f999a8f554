import StreamCore

/// Why a bearer token was refused. The HTTP layer answers 401 for every case; the case and its
/// ``name`` say which rule failed, for logs and for the response text.
public enum JWTRejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// Not three base64url segments, or a header or claims segment that is not a JSON object.
    case malformed(String)
    /// The header's `alg` is `none`: an unsigned token is never accepted.
    case algorithmNone
    /// The header's `alg` is not one coordd implements (only HS256, RS256 and ES256).
    case unsupportedAlgorithm(String)
    /// The header's `alg` is implemented but no key for it is configured (for example an HS256
    /// token when only an RSA public key is): the algorithm is never chosen by the token.
    case algorithmMismatch(String)
    /// The header lists `crit` extensions, none of which coordd understands (RFC 7515 §4.1.11).
    case unsupportedCriticalHeader
    /// The signature does not verify under the configured key.
    case badSignature
    /// `exp` has passed (beyond the leeway).
    case expired(expiresAt: Double, now: Int64)
    /// `nbf` is still ahead (beyond the leeway).
    case notYetValid(notBefore: Double, now: Int64)
    /// The token has no `exp` claim and the verifier requires one.
    case missingExpiration
    /// A registered claim or `scopes` has the wrong type.
    case invalidClaim(name: String, reason: String)
    /// No `streamkit::` scope at all (streamkit v1 §3.2: 401).
    case noStoreScope
    /// A `streamkit::` scope whose suffix is not a UUID, before any `streamkit::*` (streamkit v1 §3.2: 401).
    case invalidStoreScope(String)

    /// A stable snake_case identifier for logs and metrics.
    public var name: String {
        switch self {
        case .malformed: "malformed_token"
        case .algorithmNone: "alg_none"
        case .unsupportedAlgorithm: "unsupported_algorithm"
        case .algorithmMismatch: "algorithm_mismatch"
        case .unsupportedCriticalHeader: "unsupported_critical_header"
        case .badSignature: "bad_signature"
        case .expired: "token_expired"
        case .notYetValid: "token_not_yet_valid"
        case .missingExpiration: "missing_expiration"
        case .invalidClaim: "invalid_claim"
        case .noStoreScope: "no_store_scope"
        case .invalidStoreScope: "invalid_store_scope"
        }
    }

    /// The reason in words, for logs and the 401 response.
    public var description: String {
        switch self {
        case .malformed(let detail): "malformed token: \(detail)"
        case .algorithmNone: "unsigned tokens (alg \"none\") are not accepted"
        case .unsupportedAlgorithm(let alg):
            "unsupported token algorithm \"\(InputExcerpt.excerpt(alg))\" (accepted: HS256, RS256, ES256)"
        case .algorithmMismatch(let alg): "token algorithm \"\(InputExcerpt.excerpt(alg))\" does not match any configured key"
        case .unsupportedCriticalHeader: "token header lists critical extensions (crit) that are not supported"
        case .badSignature: "token signature does not verify"
        case .expired(let exp, let now): "token expired at \(Self.seconds(exp)) (now \(now))"
        case .notYetValid(let nbf, let now): "token not valid before \(Self.seconds(nbf)) (now \(now))"
        case .missingExpiration: "token has no expiry (exp claim)"
        case .invalidClaim(let name, let reason): "invalid \(name) claim: \(reason)"
        case .noStoreScope: "token has no streamkit scope"
        case .invalidStoreScope(let scope): "token scope \"\(InputExcerpt.excerpt(scope))\" does not name a store UUID"
        }
    }

    /// Whole seconds print without a fraction; NumericDate may carry one (RFC 7519 §2).
    private static func seconds(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

/// A verifier that cannot be built from the given keys: no key, a weak key, or an unreadable file.
public struct JWTConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Human-readable text naming the file or key and the problem.
    public var message: String

    /// Creates an error with `message`.
    public init(_ message: String) {
        self.message = message
    }

    /// The message, as logged.
    public var description: String { message }
}
