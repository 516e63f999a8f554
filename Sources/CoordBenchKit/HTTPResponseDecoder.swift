import Transport

/// Why a response could not be read.
public struct HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was wrong.
    public var message: String

    /// Creates an error.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// Reads the responses of one keep-alive HTTP/1.1 connection incrementally: the head (through
/// `Transport`'s ``HTTPResponseParser``), then a body framed by `Content-Length` or by chunked transfer
/// coding, then the next response.
///
/// The caller keeps the bytes received but not yet consumed and calls ``decode(_:)`` with them until it
/// answers `needMoreData`; the decoder never looks at a byte twice except an incomplete chunk-size line.
/// Streaming responses (etcd's watch and lease keep-alive) arrive as `body` pieces as soon as their
/// chunks do.
public struct HTTPResponseDecoder: Sendable {
    /// What one call to ``decode(_:)`` found.
    public enum Event: Sendable, Equatable {
        /// More bytes are needed; every byte offered was consumed or must be offered again.
        case needMoreData
        /// The status line and headers of the next response.
        case head(HTTPResponseHead)
        /// Some bytes of the body, in order (chunk framing removed).
        case body([UInt8])
        /// The body is complete; the connection may carry the next response.
        case end
    }

    /// Longest chunk-size line accepted (hex digits plus extensions). Go's server writes a few hex
    /// digits; the bound keeps garbage from being buffered as one endless line.
    public static let maxChunkLineBytes = 1_024

    private enum State: Sendable {
        case head
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
    }

    private var state = State.head
    private var parser = HTTPResponseParser()

    /// A decoder at the start of a connection.
    public init() {}

    /// Decodes from the start of `bytes` (the unconsumed input): the event and how many bytes of
    /// `bytes` it consumed.
    public mutating func decode(_ bytes: UnsafeRawBufferPointer) throws(HTTPClientError) -> (event: Event, consumed: Int) {
        switch state {
        case .head:
            if bytes.isEmpty { return (.needMoreData, 0) }
            switch parser.feed(bytes) {
            case .needMoreData:
                return (.needMoreData, bytes.count)
            case .failure(let error):
                throw HTTPClientError("bad response head: \(error)")
            case .head(let head, let consumed):
                parser = HTTPResponseParser()
                state = try Self.bodyState(for: head)
                return (.head(head), consumed)
            }
        case .fixed(let remaining):
            if remaining == 0 {
                state = .head
                return (.end, 0)
            }
            if bytes.isEmpty { return (.needMoreData, 0) }
            let count = min(remaining, bytes.count)
            state = .fixed(remaining: remaining - count)
            return (.body([UInt8](UnsafeRawBufferPointer(rebasing: bytes[0..<count]))), count)
        case .chunkSize:
            guard let (line, consumed) = try Self.line(bytes) else { return (.needMoreData, 0) }
            let size = try Self.chunkSize(line)
            state = size == 0 ? .trailers : .chunkData(remaining: size)
            return try continueAfter(consumed, bytes)
        case .chunkData(let remaining):
            if bytes.isEmpty { return (.needMoreData, 0) }
            let count = min(remaining, bytes.count)
            state = remaining == count ? .chunkDataEnd : .chunkData(remaining: remaining - count)
            return (.body([UInt8](UnsafeRawBufferPointer(rebasing: bytes[0..<count]))), count)
        case .chunkDataEnd:
            guard bytes.count >= 2 else { return (.needMoreData, 0) }
            guard bytes[0] == UInt8(ascii: "\r"), bytes[1] == UInt8(ascii: "\n") else {
                throw HTTPClientError("chunk data not followed by CRLF")
            }
            state = .chunkSize
            return try continueAfter(2, bytes)
        case .trailers:
            guard let (line, consumed) = try Self.line(bytes) else { return (.needMoreData, 0) }
            if line.isEmpty {
                state = .head
                return (.end, consumed)
            }
            // A trailer field: nothing coordbench needs, skipped.
            return try continueAfter(consumed, bytes)
        }
    }

    /// Decodes from `bytes` (see the other overload).
    public mutating func decode(_ bytes: [UInt8]) throws(HTTPClientError) -> (event: Event, consumed: Int) {
        var decoder = self
        let outcome = bytes.withUnsafeBytes { buffer in Result { () throws(HTTPClientError) in try decoder.decode(buffer) } }
        self = decoder
        return try outcome.get()
    }

    /// Framing lines carry no event of their own: go on with the rest, adding what they consumed.
    private mutating func continueAfter(_ consumed: Int, _ bytes: UnsafeRawBufferPointer) throws(HTTPClientError) -> (event: Event, consumed: Int) {
        let (event, more) = try decode(UnsafeRawBufferPointer(rebasing: bytes[consumed...]))
        return (event, consumed + more)
    }

    /// How the body after `head` is framed (RFC 9112 §6.3, for the responses of a JSON gateway).
    private static func bodyState(for head: HTTPResponseHead) throws(HTTPClientError) -> State {
        if head.status < 200 || head.status == 204 || head.status == 304 { return .fixed(remaining: 0) }
        if let coding = head.headers["Transfer-Encoding"] {
            guard head.headers.containsToken("chunked", in: "Transfer-Encoding") else {
                throw HTTPClientError("unsupported transfer coding \(coding)")
            }
            return .chunkSize
        }
        guard let text = head.headers["Content-Length"] else {
            throw HTTPClientError("response \(head.status) has neither Content-Length nor chunked coding")
        }
        guard let length = Int(text), length >= 0 else { throw HTTPClientError("bad Content-Length \(text)") }
        return .fixed(remaining: length)
    }

    /// The first CRLF-terminated line (without CRLF) and the bytes it took, or nil when it is not
    /// complete yet.
    private static func line(_ bytes: UnsafeRawBufferPointer) throws(HTTPClientError) -> (ArraySlice<UInt8>, Int)? {
        let limit = min(bytes.count, maxChunkLineBytes + 2)
        var i = 0
        while i + 1 < limit {
            if bytes[i] == UInt8(ascii: "\r") && bytes[i + 1] == UInt8(ascii: "\n") {
                return ([UInt8](UnsafeRawBufferPointer(rebasing: bytes[0..<i]))[...], i + 2)
            }
            i += 1
        }
        if bytes.count >= maxChunkLineBytes + 2 { throw HTTPClientError("chunk line longer than \(maxChunkLineBytes) bytes") }
        return nil
    }

    /// The size of a chunk-size line: hex digits, optionally followed by `;extensions`.
    private static func chunkSize(_ line: ArraySlice<UInt8>) throws(HTTPClientError) -> Int {
        var size = 0
        var digits = 0
        for byte in line {
            let value: Int
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = Int(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = Int(byte - UInt8(ascii: "A")) + 10
            case UInt8(ascii: ";"), UInt8(ascii: " "), UInt8(ascii: "\t"):
                guard digits > 0 else { throw HTTPClientError("chunk size missing") }
                return size
            default:
                throw HTTPClientError("bad chunk size line")
            }
            // 15 hex digits already exceed any chunk a client would buffer.
            guard digits < 15 else { throw HTTPClientError("chunk size too large") }
            size = size * 16 + value
            digits += 1
        }
        guard digits > 0 else { throw HTTPClientError("chunk size missing") }
        return size
    }
}
