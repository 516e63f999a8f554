import StreamCore

/// The WebSocket subprotocols (RFC 6455 §1.9) a coordd server understands, and the bearer token a
/// browser carries in one.
///
/// A browser's `WebSocket` cannot set `Authorization`, but it can offer subprotocols. So a browser
/// client offers two values in `Sec-WebSocket-Protocol`: ``mux``, the protocol it speaks, and
/// ``bearerPrefix`` followed by its token in unpadded base64url — the scheme Kubernetes uses with
/// `base64url.bearer.authorization.k8s.io.`. The server echoes ``mux`` (a browser fails a connection
/// whose server echoes none of its offers) and never the token. Clients that offer nothing, such as
/// streamkit's and coordd's own, get no subprotocol, as before.
public enum WebSocketSubprotocol {
    /// The streamkit v1 mux as coordd speaks it: the one subprotocol a server agrees to.
    public static let mux = "coordd.v1"
    /// The prefix of the value that carries a bearer token: `base64url.bearer.coordd.<token>`.
    public static let bearerPrefix = "base64url.bearer.coordd."

    /// The values offered in `Sec-WebSocket-Protocol`, in order: every field's comma-separated
    /// elements, trimmed, empty ones dropped.
    public static func offered(in headers: HTTPHeaders) -> [String] {
        headers.listElements(for: "Sec-WebSocket-Protocol").map(String.init)
    }

    /// The subprotocol a server agrees to among `offered`: ``mux`` when it is offered, nil otherwise
    /// (the 101 then names none, RFC 6455 §4.2.2).
    public static func selected(from offered: [String]) -> String? {
        offered.contains(mux) ? mux : nil
    }

    /// The `Sec-WebSocket-Protocol` value that carries `token`.
    public static func bearerValue(for token: String) -> String {
        bearerPrefix + Base64.encode(Array(token.utf8), alphabet: .url)
    }

    /// What the offered subprotocols say about a bearer token.
    public enum BearerOffer: Sendable, Hashable {
        /// No value carries a token.
        case none
        /// The token one value carries, decoded.
        case token(String)
        /// A value with the prefix that is not a usable token, or more than one such value: why.
        case invalid(String)
    }

    /// The bearer token carried by one of `offered`.
    public static func bearerToken(in offered: [String]) -> BearerOffer {
        let carriers = offered.filter { $0.hasPrefix(bearerPrefix) }
        guard let value = carriers.first else { return .none }
        guard carriers.count == 1 else { return .invalid("more than one bearer token in Sec-WebSocket-Protocol") }
        let encoded = value.utf8.dropFirst(bearerPrefix.utf8.count)
        guard !encoded.isEmpty, let bytes = Base64.decode(encoded, alphabet: .url),
            let token = String(validating: bytes, as: UTF8.self), !token.isEmpty
        else {
            return .invalid("the Sec-WebSocket-Protocol bearer token is not unpadded base64url of UTF-8 text")
        }
        return .token(token)
    }
}
