import CoordBenchKit
import Transport

/// An HTTP/1.1 keep-alive client connection with one request in flight: unary requests answered with
/// a whole body, and streaming responses read message by message (etcd's gateway writes one JSON
/// message per line).
final class HTTPConnection {
    /// A complete response.
    struct Response {
        var status: Int
        var body: [UInt8]
    }

    private let connection: PeerConnection
    /// The loop the connection reads on.
    var eventLoop: EventLoop { connection.eventLoop }
    private let host: String
    private var decoder = HTTPResponseDecoder()
    private var status = 0
    private var body: [UInt8] = []
    private var streamEnded = false

    private init(connection: PeerConnection, host: String) {
        self.connection = connection
        self.host = host
    }

    /// Connects to `endpoint`.
    static func connect(to endpoint: Endpoint, on loop: EventLoop) async throws -> HTTPConnection {
        HTTPConnection(connection: try await PeerConnection.connect(to: endpoint, on: loop), host: endpoint.description)
    }

    /// POSTs `body` to `path` and returns the whole response.
    func post(_ path: String, body requestBody: [UInt8]) async throws -> Response {
        try await request(HTTPClientRequest(path: path, host: host, body: requestBody))
    }

    /// GETs `path` and returns the whole response.
    func get(_ path: String) async throws -> Response {
        try await request(HTTPClientRequest(method: "GET", path: path, host: host, body: [], contentType: "text/plain"))
    }

    private func request(_ request: HTTPClientRequest) async throws -> Response {
        connection.send(request.encoded())
        status = 0
        body.removeAll(keepingCapacity: true)
        return try await connection.read { bytes in
            var offset = 0
            while true {
                let (event, consumed) = try decoder.decode(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
                offset += consumed
                switch event {
                case .needMoreData: return (nil, offset)
                case .head(let head): status = head.status
                case .body(let piece): body += piece
                case .end: return (Response(status: status, body: body), offset)
                }
            }
        }
    }

    /// POSTs `body` to `path` and reads the response head; its messages follow through
    /// ``nextMessage()``. Returns the status.
    func startStream(_ path: String, body requestBody: [UInt8]) async throws -> Int {
        connection.send(HTTPClientRequest(path: path, host: host, body: requestBody).encoded())
        body.removeAll(keepingCapacity: true)
        streamEnded = false
        return try await connection.read { bytes in
            let (event, consumed) = try decoder.decode(bytes)
            switch event {
            case .head(let head): return (head.status, consumed)
            case .needMoreData: return (nil, consumed)
            case .body, .end: throw PeerError("HTTP body before the response head")
            }
        }
    }

    /// The next newline-delimited message of the streaming response; nil when the response ended.
    func nextMessage() async throws -> [UInt8]? {
        while true {
            if let newline = body.firstIndex(of: UInt8(ascii: "\n")) {
                let message = Array(body[..<newline])
                body.removeSubrange(...newline)
                if !message.isEmpty { return message }
                continue
            }
            if streamEnded {
                guard !body.isEmpty else { return nil }
                defer { body.removeAll() }
                return body
            }
            try await connection.read { bytes -> (value: Void?, consumed: Int) in
                let (event, consumed) = try decoder.decode(bytes)
                switch event {
                case .needMoreData: return (nil, consumed)
                case .head: throw PeerError("a second response head inside a stream")
                case .body(let piece): body += piece
                case .end: streamEnded = true
                }
                return ((), consumed)
            }
        }
    }

    /// Closes the connection.
    func close() { connection.close() }

    /// Closes the connection from any task.
    var closer: @Sendable () -> Void { connection.closer }
}
