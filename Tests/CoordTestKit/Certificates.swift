import Foundation
import Transport

/// Throwaway certificates and signing keys in a temporary directory: a CA, a server certificate for
/// `127.0.0.1` and `localhost`, a client certificate, a second unrelated CA with its own client (all
/// made by `deploy/certs.sh`), and RSA / EC / other key pairs for JWTs (by the `openssl` tool).
///
/// ``shared`` is made once per test process and removed when the process exits; tests that need
/// their own set call ``generate()`` and ``remove()``.
public struct Certificates: Sendable {
    /// The directory holding every file below.
    public let directory: String

    /// The test CA's certificate (PEM): trust this to accept ``serverCertificate`` and ``clientCertificate``.
    public var caCertificate: String { path("ca.pem") }
    /// Server certificate issued by the CA, with SANs `IP:127.0.0.1` and `DNS:localhost`.
    public var serverCertificate: String { path("server.pem") }
    /// The server certificate's private key.
    public var serverKey: String { path("server.key") }
    /// Client certificate (extended key usage clientAuth) issued by the CA.
    public var clientCertificate: String { path("client.pem") }
    /// The client certificate's private key.
    public var clientKey: String { path("client.key") }
    /// A second CA that issued nothing the test CA knows about.
    public var otherCACertificate: String { path("other-ca.pem") }
    /// Client certificate issued by the other CA (a server trusting only the test CA rejects it).
    public var otherClientCertificate: String { path("other-client.pem") }
    /// The other client certificate's private key.
    public var otherClientKey: String { path("other-client.key") }

    /// RSA-2048 private key (PEM, PKCS#8) for RS256.
    public var rsaPrivateKey: String { path("rsa.key") }
    /// Its public key (PEM, SubjectPublicKeyInfo).
    public var rsaPublicKey: String { path("rsa.pub") }
    /// EC P-256 private key for ES256.
    public var ecPrivateKey: String { path("ec.key") }
    /// Its public key.
    public var ecPublicKey: String { path("ec.pub") }
    /// RSA-1024 public key: too small for RS256.
    public var weakRSAPublicKey: String { path("rsa1024.pub") }
    /// EC P-384 public key: the wrong curve for ES256.
    public var p384PublicKey: String { path("p384.pub") }
    /// Ed25519 public key: a type JWT verification here does not support.
    public var ed25519PublicKey: String { path("ed25519.pub") }

    /// The full path of `name` inside ``directory``.
    public func path(_ name: String) -> String {
        directory + "/" + name
    }

    /// The set every test shares, made on first use and removed when the process exits.
    public static let shared: Certificates = {
        // A test process without these fixtures cannot run its TLS or JWT tests at all.
        let certificates = try! generate()
        // Runs at process exit, when `shared` is long initialised; a C callback captures nothing.
        atexit { Certificates.shared.remove() }
        return certificates
    }()

    /// Makes a fresh set in a new temporary directory.
    public static func generate() throws -> Certificates {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("coordd-certs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let certificates = Certificates(directory: directory)
        do {
            try certificates.make()
        } catch {
            certificates.remove()
            throw error
        }
        return certificates
    }

    /// Deletes the directory and everything in it.
    public func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The operator's script (`deploy/certs.sh`) makes the certificates, so every TLS test uses what
    /// an operator would; the second CA and its client come from a second run in another directory.
    private func make() throws {
        try Self.runCertificateScript([directory])
        let other = path("other")
        try Self.runCertificateScript([other, "--client", "other-client"])
        for (from, to) in [("ca.pem", "other-ca.pem"), ("other-client.pem", "other-client.pem"), ("other-client.key", "other-client.key")] {
            try FileManager.default.moveItem(atPath: other + "/" + from, toPath: path(to))
        }
        try FileManager.default.removeItem(atPath: other)

        try makeKeyPair(name: "rsa", algorithm: ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"])
        try makeKeyPair(name: "ec", algorithm: ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"])
        try makeKeyPair(name: "rsa1024", algorithm: ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"])
        try makeKeyPair(name: "p384", algorithm: ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"])
        try makeKeyPair(name: "ed25519", algorithm: ["-algorithm", "ED25519"])
    }

    /// `deploy/certs.sh` of this repository.
    public static let certificateScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("deploy/certs.sh").path

    private static func runCertificateScript(_ arguments: [String]) throws {
        let outcome = try ChildProcess.runBlocking("/bin/bash", [certificateScript] + arguments)
        guard outcome.status == 0 else {
            throw OpenSSLTool.Failure(
                arguments: ["(deploy/certs.sh)"] + arguments, status: outcome.status, standardError: outcome.err)
        }
    }

    private func makeKeyPair(name: String, algorithm: [String]) throws {
        try OpenSSLTool.run(["genpkey"] + algorithm + ["-out", path("\(name).key")])
        try OpenSSLTool.run(["pkey", "-in", path("\(name).key"), "-pubout", "-out", path("\(name).pub")])
    }
}

/// Runs the `openssl` command-line tool.
public enum OpenSSLTool {
    /// A failed `openssl` run: its arguments, exit status and standard error.
    public struct Failure: Error, CustomStringConvertible {
        /// The arguments after `openssl`.
        public var arguments: [String]
        /// The exit status.
        public var status: Int32
        /// What it wrote to standard error.
        public var standardError: String

        /// The command line, status and standard error in one line.
        public var description: String {
            "openssl \(arguments.joined(separator: " ")) exited with \(status): \(standardError)"
        }
    }

    /// Runs `openssl arguments…` with `input` on standard input and returns standard output.
    @discardableResult
    public static func run(_ arguments: [String], input: [UInt8] = []) throws -> [UInt8] {
        let outcome = try ChildProcess.runBlocking("/usr/bin/env", ["openssl"] + arguments, stdin: input)
        guard outcome.status == 0 else {
            throw Failure(arguments: arguments, status: outcome.status, standardError: outcome.err)
        }
        return outcome.output
    }

    /// Signs `message` with SHA-256 and the private key in `privateKeyFile` (`openssl dgst -sign`).
    /// RSA keys give a PKCS#1 v1.5 signature; EC keys give a DER `ECDSA-Sig-Value`.
    public static func sign(_ message: [UInt8], privateKeyFile: String) throws -> [UInt8] {
        try run(["dgst", "-sha256", "-sign", privateKeyFile], input: message)
    }

    /// Converts a DER `ECDSA-Sig-Value` (SEQUENCE of two INTEGERs) to the JWT form `r || s` with
    /// each number left-padded to `width` bytes; nil when the DER is not that shape.
    public static func rawECDSASignature(fromDER der: [UInt8], width: Int = 32) -> [UInt8]? {
        var index = 0
        func readLength() -> Int? {
            guard index < der.count else { return nil }
            let first = Int(der[index])
            index += 1
            if first < 0x80 { return first }
            let count = first & 0x7F
            guard count <= 2, index + count <= der.count else { return nil }
            var length = 0
            for _ in 0..<count {
                length = length << 8 | Int(der[index])
                index += 1
            }
            return length
        }
        func readInteger() -> [UInt8]? {
            guard index < der.count, der[index] == 0x02 else { return nil }
            index += 1
            guard let length = readLength(), index + length <= der.count else { return nil }
            var value = Array(der[index..<index + length])
            index += length
            while value.count > width, value.first == 0 { value.removeFirst() }
            guard value.count <= width else { return nil }
            return [UInt8](repeating: 0, count: width - value.count) + value
        }
        guard der.first == 0x30 else { return nil }
        index = 1
        guard readLength() != nil, let r = readInteger(), let s = readInteger(), index == der.count else { return nil }
        return r + s
    }
}

/// Builds JWTs for tests: correctly signed ones, and deliberately wrong ones.
public enum TestJWT {
    /// The base64url (unpadded) text of `text`'s UTF-8 bytes.
    public static func segment(_ text: String) -> String {
        Base64URL.encode(Array(text.utf8))
    }

    /// `header.claims` in base64url: the bytes a signature covers.
    public static func signingInput(header: String, claims: String) -> String {
        segment(header) + "." + segment(claims)
    }

    /// A token with the given header, claims and signature bytes, however they were made.
    public static func token(header: String, claims: String, signature: [UInt8]) -> String {
        signingInput(header: header, claims: claims) + "." + Base64URL.encode(signature)
    }

    /// An HS256 token over `claims` with `secret`.
    public static func hs256(claims: String, secret: [UInt8], header: String = #"{"alg":"HS256","typ":"JWT"}"#) -> String {
        let input = signingInput(header: header, claims: claims)
        return input + "." + Base64URL.encode(HMACSHA256.authenticationCode(key: secret, message: Array(input.utf8)))
    }

    /// An RS256 token over `claims`, signed by `openssl dgst` with the RSA key in `privateKeyFile`.
    public static func rs256(claims: String, privateKeyFile: String, header: String = #"{"alg":"RS256","typ":"JWT"}"#) throws -> String {
        let input = signingInput(header: header, claims: claims)
        return input + "." + Base64URL.encode(try OpenSSLTool.sign(Array(input.utf8), privateKeyFile: privateKeyFile))
    }

    /// An ES256 token over `claims`, signed by `openssl dgst` with the P-256 key in `privateKeyFile`
    /// and converted from DER to the raw `r || s` form JWTs carry.
    public static func es256(claims: String, privateKeyFile: String, header: String = #"{"alg":"ES256","typ":"JWT"}"#) throws -> String {
        let input = signingInput(header: header, claims: claims)
        let der = try OpenSSLTool.sign(Array(input.utf8), privateKeyFile: privateKeyFile)
        guard let raw = OpenSSLTool.rawECDSASignature(fromDER: der) else {
            throw OpenSSLTool.Failure(arguments: ["dgst"], status: 0, standardError: "signature is not DER ECDSA: \(der)")
        }
        return input + "." + Base64URL.encode(raw)
    }
}

/// Unpadded base64url, as JWT segments are written.
private enum Base64URL {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
