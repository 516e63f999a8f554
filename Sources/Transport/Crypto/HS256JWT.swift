import StreamCore

/// Signs JSON Web Tokens with HS256 (RFC 7519, RFC 7518 §3.2): the one place coordd mints tokens, for
/// `coordctl token mint` and for the daemon-to-daemon cluster credential.
public enum HS256JWT {
    /// `header.claims.signature` for the compact JSON `claims`, signed with `secret` (the secret file's
    /// exact bytes, as the verifier reads it).
    public static func sign(claims: [UInt8], secret: [UInt8]) -> String {
        let header = segment(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let input = header + "." + segment(claims)
        return input + "." + segment(HMACSHA256.authenticationCode(key: secret, message: Array(input.utf8)))
    }

    /// Unpadded base64url, as JWT segments are written (RFC 7515).
    private static func segment(_ bytes: [UInt8]) -> String {
        Base64.encode(bytes, alphabet: .url)
    }
}
