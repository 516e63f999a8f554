/// A parsed HTTP/1.x response head: status line and header fields.
public struct HTTPResponseHead: Sendable, Hashable {
    /// The protocol version from the status line.
    public var version: HTTPVersion
    /// The three-digit status code.
    public var status: Int
    /// The reason phrase (may be empty).
    public var reason: String
    /// The header fields.
    public var headers: HTTPHeaders

    /// Creates a head.
    public init(version: HTTPVersion = .http1_1, status: Int, reason: String, headers: HTTPHeaders = [:]) {
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers
    }
}

/// An incremental HTTP/1.x response-head parser, the client's side of `HTTPRequestParser` (it reads
/// the server's answer to a WebSocket upgrade). It shares the line and header machinery and the size
/// limits; the status line is checked when it is complete.
///
/// It reads heads only: a response body, if any, is left to the caller (after an upgrade there is
/// none). After a head or a failure the parser keeps answering the same event.
public struct HTTPResponseParser: Sendable {
    /// What feeding bytes produced.
    public enum Event: Sendable, Hashable {
        /// Every byte was taken; the head is not complete yet.
        case needMoreData
        /// A complete head. The first `consumed` bytes of the last input belonged to it; the bytes
        /// after them (for example the server's first WebSocket frames) were not looked at.
        case head(HTTPResponseHead, consumed: Int)
        /// The response is malformed or too large.
        case failure(HTTPParseError)
    }

    /// The limits this parser enforces.
    public let limits: HTTPLimits
    private var reader: HTTPHeadReader
    private var head: HTTPResponseHead?
    private var finished: Event?

    /// Creates a parser enforcing `limits`.
    public init(limits: HTTPLimits = .standard) {
        self.limits = limits
        self.reader = HTTPHeadReader(limits: limits)
    }

    /// Feeds the next bytes received.
    public mutating func feed(_ input: UnsafeRawBufferPointer) -> Event {
        if let finished { return finished }
        var index = 0
        while true {
            switch reader.readLine(from: input, at: &index) {
            case .tooLarge:
                return finish(.failure(HTTPParseError(status: 431, reason: "response head too large")))
            case .incomplete:
                return .needMoreData
            case .complete:
                if var parsed = head {
                    if reader.lineContent.isEmpty {
                        parsed.headers = reader.headers
                        return finish(.head(parsed, consumed: index))
                    }
                    if let error = reader.addFieldLine() { return finish(.failure(error)) }
                } else {
                    switch Self.parseStatusLine(reader.lineContent) {
                    case .success(let line): head = line
                    case .failure(let error): return finish(.failure(error))
                    }
                }
                reader.startNextLine()
            }
        }
    }

    /// Feeds the next bytes received.
    public mutating func feed(_ bytes: [UInt8]) -> Event {
        bytes.withUnsafeBytes { feed($0) }
    }

    private mutating func finish(_ event: Event) -> Event {
        finished = event
        return event
    }

    /// Parses `HTTP/d.d SP 3DIGIT [SP reason]` (RFC 9112 §4; a missing space before an empty reason
    /// is tolerated, as most clients do).
    private static func parseStatusLine(_ line: ArraySlice<UInt8>) -> Result<HTTPResponseHead, HTTPParseError> {
        let malformed = HTTPParseError.badRequest("malformed status line")
        let start = line.startIndex
        guard line.count >= 12, line[start + 8] == HTTPSyntax.space else { return .failure(malformed) }
        guard let version = HTTPVersion.parse(line[start..<(start + 8)]) else { return .failure(malformed) }
        guard version.major == 1 else { return .failure(.versionNotSupported("HTTP version not supported")) }
        var status = 0
        for byte in line[(start + 9)..<(start + 12)] {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return .failure(malformed) }
            status = status * 10 + Int(byte - UInt8(ascii: "0"))
        }
        var reason = line[(start + 12)...]
        if let first = reason.first {
            guard first == HTTPSyntax.space else { return .failure(malformed) }
            reason = reason.dropFirst()
        }
        guard reason.allSatisfy(HTTPSyntax.isFieldValueByte) else { return .failure(malformed) }
        let phrase = String(decoding: reason, as: UTF8.self)
        return .success(HTTPResponseHead(version: version, status: status, reason: phrase))
    }
}
