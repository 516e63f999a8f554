/// A server address for ``WebSocketProvider``: `ws://host:port` or `wss://host:port`, with an optional
/// base path to which `/streamz` is appended after trimming trailing `/` (streamkit v1 §3.2).
/// `http` and `https` are taken as `ws` and `wss`.
public struct WebSocketURL: Sendable, Hashable, CustomStringConvertible {
    /// True for `wss` (TLS).
    public var secure: Bool
    /// The host: a DNS name, an IPv4 literal, or an IPv6 literal without brackets.
    public var host: String
    /// The port (80 / 443 when the URL names none).
    public var port: Int
    /// The upgrade path, ending in `/streamz`.
    public var path: String

    /// Parses `text`; the error says what is wrong.
    public init(parsing text: String) throws(WebSocketURLError) {
        let schemes: [(String, Bool)] = [("ws://", false), ("wss://", true), ("http://", false), ("https://", true)]
        guard let (prefix, secure) = schemes.first(where: { text.lowercased().hasPrefix($0.0) }) else {
            throw WebSocketURLError("\(text): the URL must start with ws:// or wss://")
        }
        self.secure = secure
        let rest = text.dropFirst(prefix.count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        var base = rest[slash...]
        if base.contains("?") || base.contains("#") {
            throw WebSocketURLError("\(text): a server URL has no query or fragment")
        }
        while base.hasSuffix("/") { base = base.dropLast() }
        path = base + "/streamz"

        let defaultPort = secure ? 443 : 80
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw WebSocketURLError("\(text): an IPv6 host needs a closing ]")
            }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw WebSocketURLError("\(text): unexpected text after the IPv6 host") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            portText = authority[authority.index(after: colon)...]
        } else {
            host = String(authority)
        }
        guard !host.isEmpty, !host.contains("@") else { throw WebSocketURLError("\(text): the URL names no host") }
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw WebSocketURLError("\(text): \(portText) is not a port")
            }
            port = value
        } else {
            port = defaultPort
        }
    }

    /// The `Host` header: the host, bracketed when IPv6, with the port unless it is the scheme's default.
    public var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (secure ? 443 : 80) ? name : "\(name):\(port)"
    }

    /// `ws://host:port/streamz`.
    public var description: String {
        "\(secure ? "wss" : "ws")://\(hostHeader)\(path)"
    }
}

/// A server URL that cannot be used.
public struct WebSocketURLError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong.
    public var message: String

    /// Creates an error.
    public init(_ message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
