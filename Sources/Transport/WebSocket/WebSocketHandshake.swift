import COpenSSL
import StreamCore

/// The server side of the RFC 6455 §4.2 opening handshake: turns a parsed upgrade request into the
/// 101 response, or into the error response that refuses it.
///
/// `Origin` is not required: streamkit's server insists on one, coordd tolerates its absence.
/// No extension is ever agreed (streamkit uses none), so a browser's `permessage-deflate` offer is
/// simply not echoed. The one subprotocol agreed is ``WebSocketSubprotocol/mux``, and only when the
/// client offers it (a browser offers it beside its bearer token); other clients offer none.
public enum WebSocketHandshake {
    /// The GUID RFC 6455 §1.3 appends to the key before hashing.
    public static let acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
    /// The only protocol version (RFC 6455 §4.1).
    public static let protocolVersion = "13"

    /// `Sec-WebSocket-Accept` for `key`: base64 of the SHA-1 of key + GUID (RFC 6455 §4.2.2).
    public static func acceptValue(forKey key: String) -> String {
        let input = Array((key + acceptGUID).utf8)
        var digest = [UInt8](repeating: 0, count: Int(SHA_DIGEST_LENGTH))
        _ = SHA1(input, input.count, &digest)
        return Base64.encode(digest)
    }

    /// Validates an upgrade request and answers it.
    ///
    /// Success is the 101 response to send (the connection then speaks WebSocket). A refusal holds the
    /// response to send before closing: 405 for a method other than GET, 400 for HTTP/1.0, a missing
    /// `upgrade` connection option or a bad `Sec-WebSocket-Key`, and 426 Upgrade Required when the
    /// `Upgrade: websocket` token is missing (with `Upgrade: websocket`, RFC 9110 §15.5.22) or the
    /// version is not 13 (with `Sec-WebSocket-Version: 13`, RFC 6455 §4.4).
    public static func serverResponse(
        for request: HTTPRequestHead
    ) -> Result<HTTPResponse, WebSocketHandshakeRejection> {
        let headers = request.headers
        guard request.method == "GET" else {
            return .failure(.init(status: 405, reason: "WebSocket upgrade requires GET", headers: ["Allow": "GET"]))
        }
        guard request.version.major == 1 && request.version.minor >= 1 else {
            return .failure(.init(status: 400, reason: "WebSocket upgrade requires HTTP/1.1"))
        }
        guard headers.containsToken("websocket", in: "Upgrade") else {
            return .failure(
                .init(
                    status: 426, reason: "expected Upgrade: websocket",
                    headers: ["Upgrade": "websocket", "Connection": "Upgrade"]))
        }
        guard headers.containsToken("upgrade", in: "Connection") else {
            return .failure(.init(status: 400, reason: "Connection header lacks the upgrade option"))
        }
        guard headers["Sec-WebSocket-Version"] == protocolVersion else {
            return .failure(
                .init(
                    status: 426, reason: "unsupported WebSocket version",
                    headers: ["Sec-WebSocket-Version": protocolVersion]))
        }
        // A repeated key would be combined into "a, b" and fail to decode, as it should.
        guard let key = headers["Sec-WebSocket-Key"] else {
            return .failure(.init(status: 400, reason: "missing Sec-WebSocket-Key"))
        }
        guard let nonce = Base64.decode(key), nonce.count == 16 else {
            return .failure(.init(status: 400, reason: "Sec-WebSocket-Key is not 16 bytes of base64"))
        }
        var response = HTTPResponse(
            status: 101,
            headers: [
                "Upgrade": "websocket",
                "Connection": "Upgrade",
                "Sec-WebSocket-Accept": acceptValue(forKey: key),
            ])
        if let subprotocol = WebSocketSubprotocol.selected(from: WebSocketSubprotocol.offered(in: headers)) {
            response.headers.add(name: "Sec-WebSocket-Protocol", value: subprotocol)
        }
        return .success(response)
    }
}

/// A refused WebSocket upgrade: the status, why, and the response that says so.
public struct WebSocketHandshakeRejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// The HTTP status (400, 405 or 426).
    public var status: Int
    /// A short reason, also the `text/plain` body of `response`.
    public var reason: String
    /// The response to send before closing the connection.
    public var response: HTTPResponse

    /// Creates a rejection whose response carries `reason` as its body, `headers`, and
    /// `Connection: close`.
    public init(status: Int, reason: String, headers: HTTPHeaders = [:]) {
        self.status = status
        self.reason = reason
        self.response = HTTPResponse.text(status: status, reason + "\n", headers: headers, closeConnection: true)
    }

    /// A one-line rendering for logs.
    public var description: String { "\(status) \(reason)" }
}
