/// Why an HTTP head was rejected, with the status a server answers it with.
///
/// For requests the status is one of 400 (malformed), 414 (target too long), 431 (head too large or
/// too many fields), 501 (unknown method, or a body this server does not read) and 505 (unsupported
/// version). A response parsed by a client uses the same classification, and the client reports it
/// as a failed handshake rather than answering it.
public struct HTTPParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The HTTP status code to answer with.
    public var status: Int
    /// A short human-readable reason, safe to send back as a `text/plain` body.
    public var reason: String

    /// Creates an error from a status and reason.
    public init(status: Int, reason: String) {
        self.status = status
        self.reason = reason
    }

    /// A one-line rendering for logs.
    public var description: String { "\(status) \(reason)" }

    /// The response to send before closing the connection: the status, the reason as a
    /// `text/plain` body, and `Connection: close` (the rest of the stream cannot be trusted).
    public var response: HTTPResponse {
        HTTPResponse.text(status: status, reason + "\n", closeConnection: true)
    }

    static func badRequest(_ reason: String) -> HTTPParseError { HTTPParseError(status: 400, reason: reason) }
    static func targetTooLong() -> HTTPParseError { HTTPParseError(status: 414, reason: "request target too long") }
    static func headTooLarge() -> HTTPParseError {
        HTTPParseError(status: 431, reason: "request header fields too large")
    }
    static func tooManyFields() -> HTTPParseError { HTTPParseError(status: 431, reason: "too many header fields") }
    static func notImplemented(_ reason: String) -> HTTPParseError { HTTPParseError(status: 501, reason: reason) }
    static func versionNotSupported(_ reason: String) -> HTTPParseError {
        HTTPParseError(status: 505, reason: reason)
    }
}

/// An HTTP protocol version, `HTTP/<major>.<minor>`.
public struct HTTPVersion: Sendable, Hashable, CustomStringConvertible {
    /// The major version (1 for everything coordd accepts).
    public var major: Int
    /// The minor version.
    public var minor: Int

    /// Creates a version.
    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// HTTP/1.1.
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)
    /// HTTP/1.0.
    public static let http1_0 = HTTPVersion(major: 1, minor: 0)

    /// A one-line rendering for logs.
    public var description: String { "HTTP/\(major).\(minor)" }

    /// Parses exactly `HTTP/d.d` (RFC 9112 §2.3), or nil.
    static func parse(_ bytes: some Collection<UInt8>) -> HTTPVersion? {
        guard bytes.count == 8 else { return nil }
        let prefix = "HTTP/".utf8
        guard bytes.starts(with: prefix) else { return nil }
        var rest = bytes.dropFirst(5).makeIterator()
        guard let major = rest.next(), let dot = rest.next(), let minor = rest.next(),
            isDigit(major), dot == UInt8(ascii: "."), isDigit(minor)
        else { return nil }
        return HTTPVersion(major: Int(major - UInt8(ascii: "0")), minor: Int(minor - UInt8(ascii: "0")))
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}
