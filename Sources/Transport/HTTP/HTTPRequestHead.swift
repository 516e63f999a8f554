/// A parsed HTTP/1.x request head: request line and header fields. coordd reads no request bodies.
public struct HTTPRequestHead: Sendable, Hashable {
    /// The method, case-sensitive as RFC 9110 §9.1 requires (`GET`, not `get`).
    public var method: String
    /// The request target as sent, e.g. `/streamz` or `/metrics?x=1`.
    public var target: String
    /// The protocol version from the request line.
    public var version: HTTPVersion
    /// The header fields.
    public var headers: HTTPHeaders

    /// Creates a head (the parser's product; tests and handshakes build them directly too).
    public init(method: String, target: String, version: HTTPVersion = .http1_1, headers: HTTPHeaders = [:]) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
    }

    /// The target without its query: `/streamz` for `/streamz?token=…`.
    public var path: Substring {
        target[..<(target.firstIndex(of: "?") ?? target.endIndex)]
    }

    /// The query after `?`, or nil when the target has none.
    public var query: Substring? {
        target.firstIndex(of: "?").map { target[target.index(after: $0)...] }
    }
}

extension HTTPRequestHead {
    /// Appends the request line and headers, ending with the empty line (a client's request; coordd
    /// sends no request bodies).
    ///
    /// A method that is not a token or a target with spaces or control characters would corrupt the
    /// request line, so both are programmer errors, like invalid header fields.
    public func encode(into out: inout [UInt8]) {
        precondition(HTTPSyntax.isToken(method.utf8), "invalid HTTP method \(method.debugDescription)")
        precondition(
            !target.isEmpty && target.utf8.allSatisfy(HTTPSyntax.isTargetByte),
            "invalid request target \(target.debugDescription)")
        out.append(contentsOf: method.utf8)
        out.append(HTTPSyntax.space)
        out.append(contentsOf: target.utf8)
        out.append(contentsOf: " \(version)\r\n".utf8)
        headers.write(into: &out)
        out.append(contentsOf: "\r\n".utf8)
    }

    /// The encoded head as one buffer.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }
}
