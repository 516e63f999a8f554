/// An HTTP/1.1 request as a client sends it to a JSON gateway: `POST` with a body of known length on
/// a keep-alive connection.
public struct HTTPClientRequest: Sendable, Equatable {
    /// `POST`, `GET`.
    public var method: String
    /// The request target, e.g. `/v3/kv/put`.
    public var path: String
    /// The `Host` header: `127.0.0.1:23790`.
    public var host: String
    /// The body; sent with `Content-Length` (never chunked, so any HTTP/1.1 server reads it).
    public var body: [UInt8]
    /// `Content-Type` of the body.
    public var contentType: String

    /// Creates a request. `method` and `path` must be plain tokens without spaces or line breaks; they
    /// come from code, never from input.
    public init(method: String = "POST", path: String, host: String, body: [UInt8], contentType: String = "application/json") {
        precondition(!method.utf8.contains(where: { $0 <= 0x20 }) && !path.utf8.contains(where: { $0 <= 0x20 }),
                     "HTTP method and path must not contain spaces or control characters")
        self.method = method
        self.path = path
        self.host = host
        self.body = body
        self.contentType = contentType
    }

    /// Appends the request's bytes to `out`.
    public func encode(into out: inout [UInt8]) {
        out.append(contentsOf: "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n\r\n".utf8)
        out.append(contentsOf: body)
    }

    /// The request's bytes.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128 + body.count)
        encode(into: &out)
        return out
    }
}
