import CoordTestKit
import Coordinator
import Foundation
import Testing
import Transport

/// Shared values for the JWT tests: a fixed clock, a secret, and claim builders.
enum JWTFixture {
    static let now: Int64 = 1_800_000_000
    static let secret = Array("an-hs256-secret-of-32-bytes-long".utf8)

    static func claims(
        exp: Int64? = now + 3600, nbf: Int64? = nil, scopes: String = #"["streamkit::*"]"#, extra: String = ""
    ) -> String {
        var members = [#""sub":"worker-7""#, #""scopes":\#(scopes)"#]
        if let exp { members.append(#""exp":\#(exp)"#) }
        if let nbf { members.append(#""nbf":\#(nbf)"#) }
        if !extra.isEmpty { members.append(extra) }
        return "{" + members.joined(separator: ",") + "}"
    }

    static func hmacVerifier() throws -> JWTVerifier {
        try JWTVerifier(hmacSecret: secret)
    }

    static func rsaVerifier() throws -> JWTVerifier {
        try JWTVerifier(publicKey: try PublicKey(pemFile: Certificates.shared.rsaPublicKey))
    }

    static func ecVerifier() throws -> JWTVerifier {
        try JWTVerifier(publicKey: try PublicKey(pemFile: Certificates.shared.ecPublicKey))
    }
}

@Suite struct JWTVerifierTests {
    private let now = JWTFixture.now

    private func rejection(_ verifier: JWTVerifier, _ token: String) throws -> JWTRejection {
        try #require(throws: JWTRejection.self) { _ = try verifier.verify(token, now: now) }
    }

    // MARK: Accepted

    @Test func validHS256TokenIsAccepted() throws {
        let token = TestJWT.hs256(claims: JWTFixture.claims(), secret: JWTFixture.secret)
        let claims = try JWTFixture.hmacVerifier().verify(token, now: now)
        #expect(claims == JWTClaims(
            algorithm: "HS256", subject: "worker-7", expiresAt: Double(now + 3600), notBefore: nil, scopes: ["streamkit::*"]))
    }

    @Test func validRS256TokenIsAccepted() throws {
        let token = try TestJWT.rs256(claims: JWTFixture.claims(), privateKeyFile: Certificates.shared.rsaPrivateKey)
        let claims = try JWTFixture.rsaVerifier().verify(token, now: now)
        #expect(claims.algorithm == "RS256")
        #expect(claims.scopes == ["streamkit::*"])
    }

    @Test func validES256TokenIsAccepted() throws {
        let token = try TestJWT.es256(claims: JWTFixture.claims(), privateKeyFile: Certificates.shared.ecPrivateKey)
        let claims = try JWTFixture.ecVerifier().verify(token, now: now)
        #expect(claims.algorithm == "ES256")
        #expect(claims.subject == "worker-7")
    }

    @Test func verifierWithSecretAndKeyAcceptsBothAlgorithms() throws {
        let verifier = try JWTVerifier(
            hmacSecret: JWTFixture.secret, publicKey: try PublicKey(pemFile: Certificates.shared.rsaPublicKey))
        #expect(verifier.acceptedAlgorithms == ["HS256", "RS256"])
        let hs = TestJWT.hs256(claims: JWTFixture.claims(), secret: JWTFixture.secret)
        let rs = try TestJWT.rs256(claims: JWTFixture.claims(), privateKeyFile: Certificates.shared.rsaPrivateKey)
        #expect(try verifier.verify(hs, now: now).algorithm == "HS256")
        #expect(try verifier.verify(rs, now: now).algorithm == "RS256")
    }

    @Test func verifierLoadsKeysFromFiles() throws {
        let secretFile = Certificates.shared.path("hs256-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(atPath: secretFile) }
        try Data(JWTFixture.secret).write(to: URL(fileURLWithPath: secretFile))
        let verifier = try JWTVerifier(hmacSecretFile: secretFile, publicKeyFile: Certificates.shared.ecPublicKey)
        #expect(verifier.acceptedAlgorithms == ["HS256", "ES256"])
        let token = TestJWT.hs256(claims: JWTFixture.claims(), secret: JWTFixture.secret)
        #expect(try verifier.verify(token, now: now).subject == "worker-7")
    }

    // MARK: Time

    @Test(arguments: [
        (offset: Int64(-61), accepted: false), (offset: -60, accepted: false), (offset: -59, accepted: true),
        (offset: 0, accepted: true), (offset: 3600, accepted: true),
    ])
    func expiryIsCheckedWithSixtySecondsOfLeeway(offset: Int64, accepted: Bool) throws {
        let token = TestJWT.hs256(claims: JWTFixture.claims(exp: now + offset), secret: JWTFixture.secret)
        if accepted {
            _ = try JWTFixture.hmacVerifier().verify(token, now: now)
        } else {
            #expect(try rejection(JWTFixture.hmacVerifier(), token) == .expired(expiresAt: Double(now + offset), now: now))
        }
    }

    @Test(arguments: [
        (offset: Int64(61), accepted: false), (offset: 60, accepted: true), (offset: 0, accepted: true),
        (offset: -100, accepted: true),
    ])
    func notBeforeIsCheckedWithSixtySecondsOfLeeway(offset: Int64, accepted: Bool) throws {
        let token = TestJWT.hs256(claims: JWTFixture.claims(nbf: now + offset), secret: JWTFixture.secret)
        if accepted {
            _ = try JWTFixture.hmacVerifier().verify(token, now: now)
        } else {
            #expect(try rejection(JWTFixture.hmacVerifier(), token) == .notYetValid(notBefore: Double(now + offset), now: now))
        }
    }

    @Test func tokenWithoutExpiryIsRefusedUnlessAllowed() throws {
        let token = TestJWT.hs256(claims: JWTFixture.claims(exp: nil), secret: JWTFixture.secret)
        #expect(try rejection(JWTFixture.hmacVerifier(), token) == .missingExpiration)
        let lenient = try JWTVerifier(hmacSecret: JWTFixture.secret, requiresExpiration: false)
        #expect(try lenient.verify(token, now: now).expiresAt == nil)
    }

    @Test func fractionalNumericDatesAreAccepted() throws {
        let claims = #"{"exp":1800000100.5,"nbf":1799999999.25,"scopes":[]}"#
        let token = TestJWT.hs256(claims: claims, secret: JWTFixture.secret)
        let verified = try JWTFixture.hmacVerifier().verify(token, now: now)
        #expect(verified.expiresAt == 1_800_000_100.5)
        #expect(verified.notBefore == 1_799_999_999.25)
    }

    // MARK: Signatures and algorithms

    @Test func badSignaturesAreRefused() throws {
        let claims = JWTFixture.claims()
        let wrongSecret = TestJWT.hs256(claims: claims, secret: Array("another-secret-that-is-32-bytes!".utf8))
        #expect(try rejection(JWTFixture.hmacVerifier(), wrongSecret) == .badSignature)

        // A valid signature moved onto other claims.
        let signed = TestJWT.hs256(claims: claims, secret: JWTFixture.secret)
        let forged = TestJWT.hs256(claims: JWTFixture.claims(scopes: #"["streamkit::*","admin"]"#), secret: JWTFixture.secret)
        let spliced = forged.split(separator: ".")[0..<2].joined(separator: ".") + "." + signed.split(separator: ".")[2]
        #expect(try rejection(JWTFixture.hmacVerifier(), spliced) == .badSignature)

        let otherKeyToken = try TestJWT.rs256(claims: claims, privateKeyFile: Certificates.shared.rsaPrivateKey)
        let es = try TestJWT.es256(claims: claims, privateKeyFile: Certificates.shared.ecPrivateKey)
        let tamperedES = String(es.dropLast(2)) + (es.hasSuffix("AA") ? "BA" : "AA")
        #expect(try rejection(JWTFixture.ecVerifier(), tamperedES) == .badSignature)
        #expect(try rejection(JWTFixture.rsaVerifier(), String(otherKeyToken.dropLast(4)) + "abcd") == .badSignature)
    }

    @Test(arguments: ["none", "None", "NONE"])
    func unsignedTokensAreRefused(alg: String) throws {
        let header = #"{"alg":"\#(alg)","typ":"JWT"}"#
        let unsigned = TestJWT.signingInput(header: header, claims: JWTFixture.claims()) + "."
        #expect(try rejection(JWTFixture.hmacVerifier(), unsigned) == .algorithmNone)
        let withSignature = TestJWT.token(header: header, claims: JWTFixture.claims(), signature: [1, 2, 3])
        #expect(try rejection(JWTFixture.rsaVerifier(), withSignature) == .algorithmNone)
    }

    @Test func hs256TokenIsRefusedWhenOnlyAnRSAKeyIsConfigured() throws {
        let token = TestJWT.hs256(claims: JWTFixture.claims(), secret: JWTFixture.secret)
        #expect(try rejection(JWTFixture.rsaVerifier(), token) == .algorithmMismatch("HS256"))
    }

    @Test func publicKeyUsedAsHMACSecretIsRefused() throws {
        // The classic confusion attack: sign with HMAC using the (public) key bytes as the secret.
        let publicKeyPEM = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Certificates.shared.rsaPublicKey)))
        let asHS256 = TestJWT.hs256(claims: JWTFixture.claims(), secret: publicKeyPEM)
        #expect(try rejection(JWTFixture.rsaVerifier(), asHS256) == .algorithmMismatch("HS256"))
        let asRS256 = TestJWT.hs256(claims: JWTFixture.claims(), secret: publicKeyPEM, header: #"{"alg":"RS256"}"#)
        #expect(try rejection(JWTFixture.rsaVerifier(), asRS256) == .badSignature)
    }

    @Test func tokenForTheOtherKeyTypeIsRefused() throws {
        let es = try TestJWT.es256(claims: JWTFixture.claims(), privateKeyFile: Certificates.shared.ecPrivateKey)
        #expect(try rejection(JWTFixture.rsaVerifier(), es) == .algorithmMismatch("ES256"))
        let rs = try TestJWT.rs256(claims: JWTFixture.claims(), privateKeyFile: Certificates.shared.rsaPrivateKey)
        #expect(try rejection(JWTFixture.ecVerifier(), rs) == .algorithmMismatch("RS256"))
        #expect(try rejection(JWTFixture.hmacVerifier(), rs) == .algorithmMismatch("RS256"))
    }

    @Test(arguments: ["HS512", "RS512", "PS256", "EdDSA", "hs256"])
    func unimplementedAlgorithmsAreRefused(alg: String) throws {
        let token = TestJWT.hs256(claims: JWTFixture.claims(), secret: JWTFixture.secret, header: #"{"alg":"\#(alg)"}"#)
        #expect(try rejection(JWTFixture.hmacVerifier(), token) == .unsupportedAlgorithm(alg))
    }

    @Test func criticalHeaderExtensionsAreRefused() throws {
        let header = #"{"alg":"HS256","crit":["exp"],"exp":1}"#
        let token = TestJWT.hs256(claims: JWTFixture.claims(), secret: JWTFixture.secret, header: header)
        #expect(try rejection(JWTFixture.hmacVerifier(), token) == .unsupportedCriticalHeader)
    }

    // MARK: Malformed tokens

    static let malformedTokens: [(String, String)] = {
        let secret = JWTFixture.secret
        let good = TestJWT.hs256(claims: JWTFixture.claims(), secret: secret)
        let parts = good.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let hs = #"{"alg":"HS256"}"#
        return [
            ("empty token", ""),
            ("one segment", "abc"),
            ("two segments", parts[0] + "." + parts[1]),
            ("four segments", good + ".e30"),
            ("header not base64url", "!!!." + parts[1] + "." + parts[2]),
            ("header with base64 padding", TestJWT.segment(hs) + "==." + parts[1] + "." + parts[2]),
            ("empty header", "." + parts[1] + "." + parts[2]),
            ("header not JSON", TestJWT.segment("alg=HS256") + "." + parts[1] + "." + parts[2]),
            ("header a JSON array", TestJWT.segment(#"["HS256"]"#) + "." + parts[1] + "." + parts[2]),
            ("header without alg", TestJWT.hs256(claims: JWTFixture.claims(), secret: secret, header: #"{"typ":"JWT"}"#)),
            ("alg not a string", TestJWT.hs256(claims: JWTFixture.claims(), secret: secret, header: #"{"alg":256}"#)),
            ("duplicate alg", TestJWT.hs256(claims: JWTFixture.claims(), secret: secret, header: #"{"alg":"HS256","alg":"none"}"#)),
            ("duplicate exp claim", TestJWT.hs256(claims: #"{"exp":1,"scopes":[],"exp":99999999999}"#, secret: secret)),
            ("duplicate nested key", TestJWT.hs256(claims: #"{"exp":99999999999,"x":{"a":1,"a":2}}"#, secret: secret)),
            ("empty signature", parts[0] + "." + parts[1] + "."),
            ("signature not base64url", parts[0] + "." + parts[1] + "." + parts[2] + "+/"),
            ("claims not JSON", TestJWT.hs256(claims: "exp=1", secret: secret)),
            ("claims a JSON string", TestJWT.hs256(claims: #""streamkit::*""#, secret: secret)),
            ("claims with trailing bytes", TestJWT.hs256(claims: JWTFixture.claims() + "x", secret: secret)),
            ("token over the size limit", good + String(repeating: "A", count: AuthLimits.maximumTokenBytes)),
        ]
    }()

    @Test(arguments: malformedTokens)
    func malformedTokensAreRefusedAsMalformed(name: String, token: String) throws {
        let error = try rejection(JWTFixture.hmacVerifier(), token)
        guard case .malformed(let detail) = error else {
            Issue.record("\(name): expected malformed, got \(error)")
            return
        }
        #expect(!detail.isEmpty)
        #expect(error.name == "malformed_token")
    }

    // MARK: Claims

    @Test func scopesMayBeAnArrayOrACommaSeparatedString() throws {
        let verifier = try JWTFixture.hmacVerifier()
        let array = TestJWT.hs256(claims: JWTFixture.claims(scopes: #"["read","streamkit::*"]"#), secret: JWTFixture.secret)
        #expect(try verifier.verify(array, now: now).scopes == ["read", "streamkit::*"])
        let joined = TestJWT.hs256(claims: JWTFixture.claims(scopes: #""read, streamkit::*,,write""#), secret: JWTFixture.secret)
        #expect(try verifier.verify(joined, now: now).scopes == ["read", "streamkit::*", "write"])
        let absent = TestJWT.hs256(claims: #"{"exp":\#(now + 10)}"#, secret: JWTFixture.secret)
        #expect(try verifier.verify(absent, now: now).scopes == [])
    }

    @Test(arguments: [
        (#"{"exp":"1800003600","scopes":[]}"#, "exp"), (#"{"exp":1800003600,"nbf":true,"scopes":[]}"#, "nbf"),
        (#"{"exp":1800003600,"scopes":["a",1]}"#, "scopes"), (#"{"exp":1800003600,"scopes":{"a":1}}"#, "scopes"),
        (#"{"exp":1800003600,"sub":42}"#, "sub"),
    ])
    func claimsOfTheWrongTypeAreRefused(claims: String, claim: String) throws {
        let token = TestJWT.hs256(claims: claims, secret: JWTFixture.secret)
        let error = try rejection(JWTFixture.hmacVerifier(), token)
        guard case .invalidClaim(let name, _) = error else {
            Issue.record("expected invalid claim \(claim), got \(error)")
            return
        }
        #expect(name == claim)
    }

    @Test func authorizeAppliesTheStoreScopeRules() throws {
        let verifier = try JWTFixture.hmacVerifier()
        let store = "6f1c1e2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
        let scoped = TestJWT.hs256(claims: JWTFixture.claims(scopes: #""streamkit::\#(store)""#), secret: JWTFixture.secret)
        let scopes = try verifier.authorize(token: scoped, now: now)
        #expect(scopes.allows(store: store))
        #expect(!scopes.allows(store: "00000000-0000-0000-0000-000000000001"))

        let unscoped = TestJWT.hs256(claims: JWTFixture.claims(scopes: #"["read"]"#), secret: JWTFixture.secret)
        #expect(throws: JWTRejection.noStoreScope) { try verifier.authorize(token: unscoped, now: now) }
    }

    @Test func everyRejectionHasItsOwnNameAndMessage() {
        let all: [JWTRejection] = [
            .malformed("x"), .algorithmNone, .unsupportedAlgorithm("HS512"), .algorithmMismatch("HS256"),
            .unsupportedCriticalHeader, .badSignature, .expired(expiresAt: 1, now: 2), .notYetValid(notBefore: 3, now: 2),
            .missingExpiration, .invalidClaim(name: "exp", reason: "x"), .noStoreScope, .invalidStoreScope("streamkit::x"),
        ]
        #expect(Set(all.map(\.name)).count == all.count)
        #expect(Set(all.map(\.description)).count == all.count)
        #expect(JWTRejection.expired(expiresAt: 1_800_000_000, now: 1_800_000_100).description
            == "token expired at 1800000000 (now 1800000100)")
    }

    // MARK: Configuration

    @Test func verifierConfigurationErrorsAreClear() throws {
        let certificates = Certificates.shared
        #expect(throws: JWTConfigurationError("token verification needs an HS256 secret or a public key")) {
            _ = try JWTVerifier()
        }
        let short = try #require(throws: JWTConfigurationError.self) { _ = try JWTVerifier(hmacSecret: Array("short".utf8)) }
        #expect(short.message.contains("has 5 bytes; at least 32"), "\(short.message)")
        let weak = try #require(throws: JWTConfigurationError.self) {
            _ = try JWTVerifier(hmacSecretFile: nil, publicKeyFile: certificates.weakRSAPublicKey)
        }
        #expect(weak.message.hasPrefix("\(certificates.weakRSAPublicKey): the RSA public key has 1024 bits"), "\(weak.message)")
        let curve = try #require(throws: JWTConfigurationError.self) {
            _ = try JWTVerifier(hmacSecretFile: nil, publicKeyFile: certificates.p384PublicKey)
        }
        #expect(curve.message.contains("secp384r1; ES256 needs P-256"), "\(curve.message)")
        let type = try #require(throws: JWTConfigurationError.self) {
            _ = try JWTVerifier(hmacSecretFile: nil, publicKeyFile: certificates.ed25519PublicKey)
        }
        #expect(type.message.contains("a ED25519 public key cannot verify"), "\(type.message)")
        let missing = try #require(throws: JWTConfigurationError.self) {
            _ = try JWTVerifier(hmacSecretFile: "/nonexistent/secret", publicKeyFile: nil)
        }
        #expect(missing.message.hasPrefix("cannot open /nonexistent/secret: "), "\(missing.message)")
    }

    @Test(arguments: [
        ("Bearer abc.def.ghi", "abc.def.ghi"), ("bearer abc", "abc"), ("BEARER   abc  ", "abc"),
        ("Basic abc", nil), ("Bearer", nil), ("Bearer   ", nil), ("", nil),
    ] as [(String, String?)])
    func bearerTokenIsTakenFromTheAuthorizationHeader(header: String, token: String?) {
        #expect(JWTVerifier.bearerToken(fromAuthorization: header).map(String.init) == token)
    }
}
