import StreamCore
import Transport

/// The claims of a token that passed verification.
public struct JWTClaims: Sendable, Hashable {
    /// The header's `alg` the token was verified with: `HS256`, `RS256` or `ES256`.
    public var algorithm: String
    /// `sub`, when present as a string.
    public var subject: String?
    /// `exp` in Unix seconds, when present.
    public var expiresAt: Double?
    /// `nbf` in Unix seconds, when present.
    public var notBefore: Double?
    /// The `scopes` claim in token order: a JSON array of strings, or one comma-separated string
    /// split at commas with surrounding spaces trimmed and empty parts dropped.
    public var scopes: [String]

    /// Creates claims from their parts (for callers that authenticate by other means, and tests).
    public init(algorithm: String, subject: String?, expiresAt: Double?, notBefore: Double?, scopes: [String]) {
        self.algorithm = algorithm
        self.subject = subject
        self.expiresAt = expiresAt
        self.notBefore = notBefore
        self.scopes = scopes
    }
}

/// Verifies JWT bearer tokens (RFC 7519) signed with HS256, RS256 or ES256.
///
/// The configured keys decide which algorithms are accepted; the token's header only selects
/// among them. A token is refused when its `alg` is `none`, unknown, or has no configured key, so
/// a public key can never be used as an HMAC secret (algorithm confusion). Times are checked
/// against the `now` passed in, with ``AuthLimits/clockSkewLeewaySeconds`` of leeway.
public struct JWTVerifier: Sendable {
    /// The HS256 secret, when configured.
    private let hmacSecret: [UInt8]?
    /// The RS256 or ES256 key, with the algorithm its type implies.
    private let publicKey: (key: PublicKey, alg: String, algorithm: SignatureAlgorithm)?
    /// Whether a token without `exp` is refused.
    public let requiresExpiration: Bool
    /// Seconds of clock skew tolerated on `exp` and `nbf`.
    public let leewaySeconds: Int64

    /// A verifier with an HS256 secret and/or a public key (RSA → RS256, EC P-256 → ES256).
    ///
    /// Throws when neither is given, when the secret is shorter than
    /// ``AuthLimits/minimumHMACSecretBytes``, when an RSA key is smaller than
    /// ``AuthLimits/minimumRSAKeyBits``, or when the key is of another type or curve.
    public init(
        hmacSecret: [UInt8]? = nil,
        publicKey: PublicKey? = nil,
        requiresExpiration: Bool = true,
        leewaySeconds: Int64 = AuthLimits.clockSkewLeewaySeconds
    ) throws(JWTConfigurationError) {
        guard hmacSecret != nil || publicKey != nil else {
            throw JWTConfigurationError("token verification needs an HS256 secret or a public key")
        }
        if let hmacSecret { try Self.checkSecret(hmacSecret) }
        self.hmacSecret = hmacSecret
        self.publicKey = try publicKey.map { (key) throws(JWTConfigurationError) in try Self.classify(key) }
        self.requiresExpiration = requiresExpiration
        self.leewaySeconds = leewaySeconds
    }

    /// A verifier whose HS256 secret is the exact bytes of `hmacSecretFile` and whose public key
    /// is the PEM in `publicKeyFile`; either may be nil, not both. Errors name the file.
    public init(
        hmacSecretFile: String?,
        publicKeyFile: String?,
        requiresExpiration: Bool = true,
        leewaySeconds: Int64 = AuthLimits.clockSkewLeewaySeconds
    ) throws(JWTConfigurationError) {
        var secret: [UInt8]?
        var key: PublicKey?
        if let hmacSecretFile {
            let bytes: [UInt8]
            do { bytes = try SecretFile.contents(ofFile: hmacSecretFile) } catch { throw JWTConfigurationError(error.message) }
            do { try Self.checkSecret(bytes) } catch { throw JWTConfigurationError("\(hmacSecretFile): \(error.message)") }
            secret = bytes
        }
        if let publicKeyFile {
            let loaded: PublicKey
            do { loaded = try PublicKey(pemFile: publicKeyFile) } catch { throw JWTConfigurationError(error.message) }
            do { _ = try Self.classify(loaded) } catch { throw JWTConfigurationError("\(publicKeyFile): \(error.message)") }
            key = loaded
        }
        try self.init(hmacSecret: secret, publicKey: key, requiresExpiration: requiresExpiration, leewaySeconds: leewaySeconds)
    }

    private static func checkSecret(_ secret: [UInt8]) throws(JWTConfigurationError) {
        guard secret.count >= AuthLimits.minimumHMACSecretBytes else {
            throw JWTConfigurationError(
                "the HS256 secret has \(secret.count) bytes; at least \(AuthLimits.minimumHMACSecretBytes) are required (RFC 7518 §3.2)")
        }
    }

    /// The JWT algorithm a key's type implies, or why the key cannot be used.
    private static func classify(_ key: PublicKey) throws(JWTConfigurationError) -> (key: PublicKey, alg: String, algorithm: SignatureAlgorithm) {
        switch key.keyType {
        case .rsa(let bits) where bits >= AuthLimits.minimumRSAKeyBits:
            return (key, "RS256", .rsaPKCS1SHA256)
        case .rsa(let bits):
            throw JWTConfigurationError(
                "the RSA public key has \(bits) bits; at least \(AuthLimits.minimumRSAKeyBits) are required (RFC 7518 §3.3)")
        case .ellipticCurve(let curve) where curve == "prime256v1":
            return (key, "ES256", .ecdsaP256SHA256)
        case .ellipticCurve(let curve):
            throw JWTConfigurationError("the EC public key is on curve \(curve); ES256 needs P-256 (prime256v1)")
        case .other(let type):
            throw JWTConfigurationError("a \(type) public key cannot verify RS256 or ES256 tokens")
        }
    }

    /// The `alg` values this verifier accepts, for the start-up log line.
    public var acceptedAlgorithms: [String] {
        (hmacSecret == nil ? [] : ["HS256"]) + (publicKey.map { [$0.alg] } ?? [])
    }

    /// Verifies `token` (`header.payload.signature`) at `now` (Unix seconds) and returns its claims.
    public func verify(_ token: some StringProtocol, now: Int64) throws(JWTRejection) -> JWTClaims {
        let bytes = Array(token.utf8)
        guard bytes.count <= AuthLimits.maximumTokenBytes else {
            throw .malformed("token longer than \(AuthLimits.maximumTokenBytes) bytes (AuthLimits.maximumTokenBytes)")
        }
        let segments = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard segments.count == 3 else {
            throw .malformed("expected 3 dot-separated segments, found \(segments.count)")
        }
        let header = try Self.jsonObject(segments[0], segment: "header")
        let alg = try checkAlgorithm(header)

        guard !segments[2].isEmpty else { throw .malformed("signature segment is empty") }
        guard let signature = Base64.decode(segments[2], alphabet: .url) else {
            throw .malformed("signature segment is not unpadded base64url")
        }
        // The signature covers the two first segments exactly as they appear in the token.
        let signingInput = bytes[..<(segments[0].count + 1 + segments[1].count)]
        guard isValid(signature: signature, signingInput: signingInput, alg: alg) else { throw .badSignature }

        // Claims are read only once the signature shows they come from the key holder.
        let claims = try Self.jsonObject(segments[1], segment: "claims")
        return try check(claims, alg: alg, now: now)
    }

    /// Verifies `token` and applies the store-scope rules: what an upgrade request's bearer token
    /// may access, or why it gets 401.
    public func authorize(token: some StringProtocol, now: Int64) throws(JWTRejection) -> StoreScopes {
        try StoreScopes(scopes: verify(token, now: now).scopes)
    }

    /// The token in an `Authorization` header value `Bearer <token>` (scheme in any case), or nil.
    public static func bearerToken(fromAuthorization value: some StringProtocol) -> Substring? {
        let text = Substring(value).trimmingSpaces()
        let scheme = "bearer "
        guard text.count > scheme.count, text.prefix(scheme.count).lowercased() == scheme else { return nil }
        let token = text.dropFirst(scheme.count).trimmingSpaces()
        return token.isEmpty ? nil : token
    }

    // MARK: Steps

    private func checkAlgorithm(_ header: JSONObject) throws(JWTRejection) -> String {
        guard case .string(let alg)? = header["alg"] else { throw .malformed("header has no alg string") }
        if alg.lowercased() == "none" { throw .algorithmNone }
        guard ["HS256", "RS256", "ES256"].contains(alg) else { throw .unsupportedAlgorithm(alg) }
        guard acceptedAlgorithms.contains(alg) else { throw .algorithmMismatch(alg) }
        if header["crit"] != nil { throw .unsupportedCriticalHeader }
        return alg
    }

    private func isValid(signature: [UInt8], signingInput: ArraySlice<UInt8>, alg: String) -> Bool {
        if alg == "HS256", let hmacSecret {
            return HMACSHA256.isValid(signature, key: hmacSecret, message: signingInput)
        }
        if let publicKey, alg == publicKey.alg {
            return publicKey.key.isValidSignature(signature, for: signingInput, algorithm: publicKey.algorithm)
        }
        return false
    }

    private func check(_ claims: JSONObject, alg: String, now: Int64) throws(JWTRejection) -> JWTClaims {
        let expiresAt = try Self.numericDate(claims, "exp")
        let notBefore = try Self.numericDate(claims, "nbf")
        if let expiresAt {
            if Double(now) >= expiresAt + Double(leewaySeconds) { throw .expired(expiresAt: expiresAt, now: now) }
        } else if requiresExpiration {
            throw .missingExpiration
        }
        if let notBefore, Double(now) + Double(leewaySeconds) < notBefore {
            throw .notYetValid(notBefore: notBefore, now: now)
        }
        var subject: String?
        switch claims["sub"] {
        case nil, .null?: subject = nil
        case .string(let value)?: subject = value
        default: throw .invalidClaim(name: "sub", reason: "must be a string")
        }
        return JWTClaims(
            algorithm: alg, subject: subject, expiresAt: expiresAt, notBefore: notBefore,
            scopes: try Self.scopes(claims["scopes"]))
    }

    private static func numericDate(_ claims: JSONObject, _ name: String) throws(JWTRejection) -> Double? {
        guard let value = claims[name] else { return nil }
        guard let seconds = value.doubleValue else {
            throw .invalidClaim(name: name, reason: "must be a number of seconds since 1970 (NumericDate)")
        }
        return seconds
    }

    private static func scopes(_ value: JSONValue?) throws(JWTRejection) -> [String] {
        switch value {
        case nil, .null?:
            return []
        case .string(let joined)?:
            return joined.split(separator: ",").map { String($0.trimmingSpaces()) }.filter { !$0.isEmpty }
        case .array(let elements)?:
            var scopes: [String] = []
            for element in elements {
                guard case .string(let scope) = element else {
                    throw .invalidClaim(name: "scopes", reason: "array elements must be strings")
                }
                scopes.append(scope)
            }
            return scopes
        default:
            throw .invalidClaim(name: "scopes", reason: "must be an array of strings or a comma-separated string")
        }
    }

    private static func jsonObject(_ segment: ArraySlice<UInt8>, segment name: String) throws(JWTRejection) -> JSONObject {
        guard !segment.isEmpty, let decoded = Base64.decode(segment, alphabet: .url) else {
            throw .malformed("\(name) segment is not unpadded base64url")
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(decoded, limits: AuthLimits.claimsJSON)
        } catch {
            throw .malformed("\(name) is not valid JSON: \(error)")
        }
        guard let object = value.objectValue else { throw .malformed("\(name) is not a JSON object") }
        return object
    }
}

extension Substring {
    /// The text without leading and trailing spaces and tabs.
    fileprivate func trimmingSpaces() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return self[endIndex...]
        }
        return self[first...last]
    }
}
