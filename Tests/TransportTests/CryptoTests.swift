import CoordTestKit
import Foundation
import Testing
import Transport

private func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}

@Suite struct CryptoTests {
    // MARK: Digests and HMAC

    @Test func sha256AndSHA1MatchTheFIPSExamples() {
        // FIPS 180-2 appendix B.1 / A.1: the message "abc".
        #expect(hex(Digest.sha256(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex(Digest.sha1(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
    }

    @Test func hmacSHA256MatchesRFC4231TestCase2() {
        let key = Array("Jefe".utf8)
        let data = Array("what do ya want for nothing?".utf8)
        let code = HMACSHA256.authenticationCode(key: key, message: data)
        #expect(hex(code) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(HMACSHA256.isValid(code, key: key, message: data))
    }

    @Test func hmacSHA256MatchesRFC4231TestCase6WithAKeyLongerThanABlock() {
        let key = [UInt8](repeating: 0xAA, count: 131)
        let data = Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)
        #expect(
            hex(HMACSHA256.authenticationCode(key: key, message: data))
                == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    @Test func hmacCheckRejectsAnyOtherCode() {
        let key = Array("Jefe".utf8)
        let data = Array("what do ya want for nothing?".utf8)
        var code = HMACSHA256.authenticationCode(key: key, message: data)
        #expect(!HMACSHA256.isValid(code, key: key, message: Array("what do ya want for nothing!".utf8)))
        #expect(!HMACSHA256.isValid(code.prefix(31), key: key, message: data))
        #expect(!HMACSHA256.isValid([UInt8](), key: key, message: data))
        code[31] ^= 1
        #expect(!HMACSHA256.isValid(code, key: key, message: data))
    }

    // MARK: Signatures

    @Test func rs256VerifiesAnOpenSSLSignatureAndRejectsAModifiedMessage() throws {
        let certificates = Certificates.shared
        let key = try PublicKey(pemFile: certificates.rsaPublicKey)
        #expect(key.keyType == .rsa(bits: 2048))
        let message = Array("header.payload".utf8)
        let signature = try OpenSSLTool.sign(message, privateKeyFile: certificates.rsaPrivateKey)
        #expect(key.isValidSignature(signature, for: message, algorithm: .rsaPKCS1SHA256))
        #expect(!key.isValidSignature(signature, for: Array("header.payloaD".utf8), algorithm: .rsaPKCS1SHA256))
        var tampered = signature
        tampered[10] ^= 0x40
        #expect(!key.isValidSignature(tampered, for: message, algorithm: .rsaPKCS1SHA256))
        #expect(!key.isValidSignature(signature, for: message, algorithm: .ecdsaP256SHA256))
    }

    @Test func es256VerifiesAnOpenSSLSignatureAndRejectsAModifiedMessage() throws {
        let certificates = Certificates.shared
        let key = try PublicKey(pemFile: certificates.ecPublicKey)
        #expect(key.keyType == .ellipticCurve(curve: "prime256v1"))
        let message = Array("header.payload".utf8)
        let der = try OpenSSLTool.sign(message, privateKeyFile: certificates.ecPrivateKey)
        let raw = try #require(OpenSSLTool.rawECDSASignature(fromDER: der))
        #expect(raw.count == 64)
        #expect(key.isValidSignature(raw, for: message, algorithm: .ecdsaP256SHA256))
        #expect(!key.isValidSignature(raw, for: Array("header.payloaD".utf8), algorithm: .ecdsaP256SHA256))
        // JWTs carry r || s; the DER form, a truncated signature and the RSA scheme are all refused.
        #expect(!key.isValidSignature(der, for: message, algorithm: .ecdsaP256SHA256))
        #expect(!key.isValidSignature(raw.prefix(63), for: message, algorithm: .ecdsaP256SHA256))
        #expect(!key.isValidSignature(raw, for: message, algorithm: .rsaPKCS1SHA256))
    }

    @Test func otherKeyTypesAreReportedByName() throws {
        let certificates = Certificates.shared
        #expect(try PublicKey(pemFile: certificates.ed25519PublicKey).keyType == .other("ED25519"))
        #expect(try PublicKey(pemFile: certificates.p384PublicKey).keyType == .ellipticCurve(curve: "secp384r1"))
        #expect(try PublicKey(pemFile: certificates.weakRSAPublicKey).keyType == .rsa(bits: 1024))
    }

    @Test func publicKeyLoadErrorsNameTheFile() throws {
        let missing = try #require(throws: CryptoError.self) { _ = try PublicKey(pemFile: "/nonexistent/key.pub") }
        #expect(missing.message.hasPrefix("cannot open /nonexistent/key.pub: "), "\(missing.message)")
        #expect(missing.message.contains("No such file or directory"), "\(missing.message)")

        let privateKey = Certificates.shared.rsaPrivateKey
        let wrongKind = try #require(throws: CryptoError.self) { _ = try PublicKey(pemFile: privateKey) }
        #expect(wrongKind.message.hasPrefix("cannot load a public key from \(privateKey): no PEM public key"), "\(wrongKind.message)")
    }

    // MARK: Secret files

    @Test func secretFileIsReadByteForByte() throws {
        let path = Certificates.shared.path("secret-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let bytes: [UInt8] = Array(0...255) + [0x0A]
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(try SecretFile.contents(ofFile: path) == bytes)
    }

    @Test func oversizedSecretFileIsRefused() throws {
        let path = Certificates.shared.path("secret-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(count: 100).write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: CryptoError.self) { _ = try SecretFile.contents(ofFile: path, maximumBytes: 99) }
        #expect(error.message.contains("larger than 99 bytes"), "\(error.message)")
        #expect(try SecretFile.contents(ofFile: path, maximumBytes: 100).count == 100)
    }
}
