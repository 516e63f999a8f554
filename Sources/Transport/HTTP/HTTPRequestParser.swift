/// An incremental HTTP/1.1 request-head parser: feed it bytes as they arrive until it yields a head.
///
/// - The request line is checked byte by byte as it arrives, so junk is answered 400 after a few
///   bytes instead of after a full head's worth of buffering.
/// - CRLF line endings, bare LF tolerated; a bare CR anywhere is rejected (RFC 9112 §2.2).
/// - `HTTP/1.1` (and later 1.x minor versions, answered as 1.1); `HTTP/1.0` only for `GET` and `HEAD`,
///   since coordd's 1.0 users are probes and health checkers; anything else is 505.
/// - No request bodies: `Transfer-Encoding` is 501 (RFC 9112 §6.1 for an unsupported coding), a
///   `Content-Length` above 0 is 501, and both together are 400 (the request-smuggling pattern,
///   RFC 9112 §6.3). `Content-Length: 0` is accepted.
///
/// After a head the parser is ready for the next request on the same connection. After a failure it
/// keeps answering the same failure: the connection sends `failure.response` and closes.
public struct HTTPRequestParser: Sendable {
    /// What feeding bytes produced.
    public enum Event: Sendable, Hashable {
        /// Every byte was taken; the head is not complete yet.
        case needMoreData
        /// A complete head. The first `consumed` bytes of the last input belonged to it; the bytes
        /// after them (for example early WebSocket frames) were not looked at.
        case head(HTTPRequestHead, consumed: Int)
        /// The request is malformed or unsupported; answer `error.response` and close.
        case failure(HTTPParseError)
    }

    /// Methods of RFC 9110 §9 and RFC 5789; any other well-formed method is 501.
    private static let knownMethods: Set<String> = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    ]

    /// The limits this parser enforces.
    public let limits: HTTPLimits
    private var reader: HTTPHeadReader
    private var requestLine = RequestLineScanner()
    /// The parsed request line once it is complete; nil while it is still arriving.
    private var head: HTTPRequestHead?
    private var failure: HTTPParseError?

    /// Creates a parser enforcing `limits`.
    public init(limits: HTTPLimits = .standard) {
        self.limits = limits
        self.reader = HTTPHeadReader(limits: limits)
    }

    /// Feeds the next bytes received.
    public mutating func feed(_ input: UnsafeRawBufferPointer) -> Event {
        if let failure { return .failure(failure) }
        var index = 0
        while true {
            let step = reader.readLine(from: input, at: &index)
            if head == nil, let error = requestLine.scan(reader.line, limits: limits) {
                return fail(error)
            }
            switch step {
            case .tooLarge:
                return fail(.headTooLarge())
            case .incomplete:
                return .needMoreData
            case .complete:
                if var parsed = head {
                    if reader.lineContent.isEmpty {
                        parsed.headers = reader.headers
                        if let error = Self.checkFraming(parsed) { return fail(error) }
                        restart()
                        return .head(parsed, consumed: index)
                    }
                    if let error = reader.addFieldLine() { return fail(error) }
                } else {
                    switch requestLine.finish(reader.line) {
                    case .failure(let error):
                        return fail(error)
                    case .success(nil):
                        // RFC 9112 §2.2: ignore empty lines before the request line.
                        requestLine = RequestLineScanner()
                    case .success(let line?):
                        if let error = Self.check(line) { return fail(error) }
                        head = line
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

    private mutating func fail(_ error: HTTPParseError) -> Event {
        failure = error
        return .failure(error)
    }

    private mutating func restart() {
        reader.reset()
        requestLine = RequestLineScanner()
        head = nil
    }

    /// Checks the method and version of a complete request line.
    private static func check(_ line: HTTPRequestHead) -> HTTPParseError? {
        guard knownMethods.contains(line.method) else { return .notImplemented("method not implemented") }
        guard line.version.major == 1 else { return .versionNotSupported("HTTP version not supported") }
        if line.version.minor == 0 && line.method != "GET" && line.method != "HEAD" {
            return .versionNotSupported("HTTP/1.0 is accepted only for GET and HEAD")
        }
        return nil
    }

    /// Checks `Host` and the body framing fields of a complete head.
    private static func checkFraming(_ head: HTTPRequestHead) -> HTTPParseError? {
        let headers = head.headers
        if head.version.minor >= 1 {
            // RFC 9112 §3.2: a 1.1 request without exactly one Host is answered 400.
            let hosts = headers.values(for: "Host").count
            if hosts == 0 { return .badRequest("missing Host header") }
            if hosts > 1 { return .badRequest("more than one Host header") }
        }
        let hasLength = headers.contains("Content-Length")
        if headers.contains("Transfer-Encoding") {
            return hasLength
                ? .badRequest("both Content-Length and Transfer-Encoding")
                : .notImplemented("request bodies are not supported")
        }
        guard hasLength else { return nil }
        // Every Content-Length value (and list element) must be the same decimal number (RFC 9112 §6.3).
        var length: Substring?
        for value in headers.values(for: "Content-Length") {
            for element in value.split(separator: ",", omittingEmptySubsequences: false) {
                let digits = trimmingWhitespace(element)
                guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
                else { return .badRequest("invalid Content-Length") }
                if let length, length != digits { return .badRequest("conflicting Content-Length values") }
                length = digits
            }
        }
        if let length, length.utf8.contains(where: { $0 != UInt8(ascii: "0") }) {
            return .notImplemented("request bodies are not supported")
        }
        return nil
    }
}

/// `text` without leading and trailing SP and HTAB (RFC 9110 "OWS").
private func trimmingWhitespace(_ text: Substring) -> Substring {
    var text = text
    while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
    while let last = text.last, last == " " || last == "\t" { text.removeLast() }
    return text
}

/// Checks a request line byte by byte as it arrives (`METHOD SP target SP HTTP/d.d`), so a bad byte is
/// reported as soon as it is seen.
private struct RequestLineScanner: Sendable {
    private enum Phase { case method, target, version }
    private static let versionPattern = Array("HTTP/0.0".utf8)

    private var phase = Phase.method
    /// Bytes of the line already checked.
    private var scanned = 0
    /// Index of the space after the method, then after the target.
    private var methodEnd = 0
    private var targetEnd = 0
    /// Index of a CR; it must be the last byte of the line.
    private var carriageReturn: Int?

    /// Checks the bytes of `line` not yet seen.
    mutating func scan(_ line: [UInt8], limits: HTTPLimits) -> HTTPParseError? {
        while scanned < line.count {
            let index = scanned
            let byte = line[index]
            scanned += 1
            if carriageReturn != nil { return .badRequest("bare CR in request line") }
            if byte == HTTPSyntax.cr {
                // Allowed before the LF of the request line, or of an empty line before it.
                guard phase == .version || index == 0 else { return .badRequest("malformed request line") }
                carriageReturn = index
                continue
            }
            switch phase {
            case .method:
                if byte == HTTPSyntax.space {
                    if index == 0 { return .badRequest("missing request method") }
                    methodEnd = index
                    phase = .target
                } else if !HTTPSyntax.isTokenByte(byte) {
                    return .badRequest("invalid character in request method")
                } else if index + 1 > limits.maxMethodBytes {
                    return .badRequest("request method too long")
                }
            case .target:
                if byte == HTTPSyntax.space {
                    if index == methodEnd + 1 { return .badRequest("missing request target") }
                    targetEnd = index
                    phase = .version
                } else if !HTTPSyntax.isTargetByte(byte) {
                    return .badRequest("invalid character in request target")
                } else if index - methodEnd > limits.maxRequestTargetBytes {
                    return .targetTooLong()
                }
            case .version:
                let position = index - targetEnd - 1
                guard position < Self.versionPattern.count else { return .badRequest("malformed HTTP version") }
                let expected = Self.versionPattern[position]
                let matches =
                    expected == UInt8(ascii: "0")
                    ? byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") : byte == expected
                guard matches else { return .badRequest("malformed HTTP version") }
            }
        }
        return nil
    }

    /// Completes a scanned line: nil for an empty line, else the method, target and version (with
    /// empty headers).
    func finish(_ line: [UInt8]) -> Result<HTTPRequestHead?, HTTPParseError> {
        let end = carriageReturn ?? line.count
        switch phase {
        case .method:
            return end == 0 ? .success(nil) : .failure(.badRequest("malformed request line"))
        case .target:
            return .failure(.badRequest("malformed request line"))
        case .version:
            guard let version = HTTPVersion.parse(line[(targetEnd + 1)..<end]) else {
                return .failure(.badRequest("malformed HTTP version"))
            }
            return .success(
                HTTPRequestHead(
                    method: String(decoding: line[..<methodEnd], as: UTF8.self),
                    target: String(decoding: line[(methodEnd + 1)..<targetEnd], as: UTF8.self),
                    version: version))
        }
    }
}
