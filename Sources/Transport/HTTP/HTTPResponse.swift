/// An HTTP/1.1 response to encode: status, headers and a body held in memory.
///
/// `encode` writes `Content-Length` itself (never for 1xx and 204, RFC 9110 §8.6) and
/// `Connection: close` when `closeConnection` is set, so callers put neither in `headers`.
public struct HTTPResponse: Sendable, Hashable {
    /// The status code.
    public var status: Int
    /// The reason phrase.
    public var reason: String
    /// Header fields other than `Content-Length`.
    public var headers: HTTPHeaders
    /// The body (empty for most error and upgrade responses).
    public var body: [UInt8]
    /// Whether to send `Connection: close` (the connection closes after this response).
    public var closeConnection: Bool

    /// Creates a response; `reason` defaults to the standard phrase for `status`.
    public init(
        status: Int, reason: String? = nil, headers: HTTPHeaders = [:], body: [UInt8] = [],
        closeConnection: Bool = false
    ) {
        precondition((100...999).contains(status), "HTTP status must have three digits, got \(status)")
        precondition(!headers.contains("Content-Length"), "HTTPResponse writes Content-Length itself")
        self.status = status
        self.reason = reason ?? Self.standardReason(for: status)
        self.headers = headers
        self.body = body
        self.closeConnection = closeConnection
    }

    /// A `text/plain; charset=utf-8` response (401, 404, `/healthz` and every error answer).
    public static func text(
        status: Int, _ text: String, headers: HTTPHeaders = [:], closeConnection: Bool = false
    ) -> HTTPResponse {
        var headers = headers
        headers.replaceOrAdd(name: "Content-Type", value: "text/plain; charset=utf-8")
        return HTTPResponse(status: status, headers: headers, body: Array(text.utf8), closeConnection: closeConnection)
    }

    /// Whether this status may carry a body and `Content-Length` (not 1xx, 204 or 304).
    private var hasContent: Bool { status >= 200 && status != 204 && status != 304 }

    /// Appends the status line and headers, ending with the empty line. Use it alone for a `HEAD`
    /// answer, or to send the body as a separate buffer.
    public func encodeHead(into out: inout [UInt8]) {
        precondition(hasContent || body.isEmpty, "status \(status) cannot carry a body")
        out.append(contentsOf: "HTTP/1.1 \(status) ".utf8)
        out.append(contentsOf: reason.utf8)
        out.append(contentsOf: "\r\n".utf8)
        headers.write(into: &out)
        if hasContent { out.append(contentsOf: "Content-Length: \(body.count)\r\n".utf8) }
        if closeConnection { out.append(contentsOf: "Connection: close\r\n".utf8) }
        out.append(contentsOf: "\r\n".utf8)
    }

    /// Appends the head and the body.
    public func encode(into out: inout [UInt8]) {
        encodeHead(into: &out)
        out.append(contentsOf: body)
    }

    /// The head and body as one buffer.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128 + body.count)
        encode(into: &out)
        return out
    }

    /// The RFC 9110 §15 reason phrase for the statuses coordd sends, else an empty phrase (which
    /// RFC 9112 §4 allows).
    public static func standardReason(for status: Int) -> String {
        switch status {
        case 101: "Switching Protocols"
        case 200: "OK"
        case 204: "No Content"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 426: "Upgrade Required"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 505: "HTTP Version Not Supported"
        default: ""
        }
    }
}
