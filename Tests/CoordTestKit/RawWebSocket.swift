import StreamCore
import Transport

/// A hand-driven WebSocket client over a ``RawSocket``: it can send what coordd's own client never
/// sends (unmasked, binary, fragmented frames, bad mux JSON) and read exactly what the server answers.
public final class RawWebSocket: @unchecked Sendable {
    // Why `@unchecked Sendable` is sound: a test drives one RawWebSocket from one task at a time;
    // `parser` and `pending` are touched only by that task.

    /// The socket beneath.
    public let socket: RawSocket
    /// The server's 101 response head, as text.
    public let handshakeResponse: String
    private var parser = WebSocketFrameParser(role: .client, limits: WebSocketLimits(maxFramePayloadBytes: 16 << 20))
    private var pending: [UInt8]
    /// Bytes of `pending` already parsed (dropped in bulk, not after every frame).
    private var parsed = 0

    private init(socket: RawSocket, pending: [UInt8], handshakeResponse: String) {
        self.socket = socket
        self.pending = pending
        self.handshakeResponse = handshakeResponse
    }

    /// The answer to a refused upgrade, or the upgraded socket.
    public enum Opening: Sendable {
        /// 101: frames flow.
        case upgraded(RawWebSocket)
        /// Any other answer: its status and the whole response text.
        case refused(status: Int, response: String)
    }

    /// Sends an upgrade request for `path` with `headers` to `127.0.0.1:port`.
    public static func open(
        port: Int, path: String = "/streamz", headers: [(String, String)] = [], receiveBufferBytes: Int? = nil
    ) async throws -> Opening {
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        request += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        let socket = try await RawSocket.connect(port: port, sending: Array(request.utf8), receiveBufferBytes: receiveBufferBytes)
        var received: [UInt8] = []
        let separator = Array("\r\n\r\n".utf8)
        for _ in 0..<1_000 {
            let chunk = try await socket.receive()
            if chunk.isEmpty { break }
            received.append(contentsOf: chunk)
            if let end = received.firstRange(of: separator) {
                let head = String(decoding: received[..<end.lowerBound], as: UTF8.self)
                let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
                if status == 101 {
                    return .upgraded(
                        RawWebSocket(socket: socket, pending: Array(received[end.upperBound...]), handshakeResponse: head))
                }
                let rest = (try? await socket.receiveUntilClosed(timeoutMs: 2_000)) ?? []
                return .refused(status: status, response: String(decoding: received + rest, as: UTF8.self))
            }
        }
        return .refused(status: 0, response: String(decoding: received, as: UTF8.self))
    }

    /// Opens and requires the upgrade (see ``RawSocket/connect(port:sending:receiveBufferBytes:)``).
    public static func upgraded(port: Int, headers: [(String, String)] = [], receiveBufferBytes: Int? = nil) async throws -> RawWebSocket {
        switch try await open(port: port, headers: headers, receiveBufferBytes: receiveBufferBytes) {
        case .upgraded(let socket): return socket
        case .refused(let status, let response): throw StreamsError.internalError("upgrade refused: \(status) \(response)")
        }
    }

    /// Sends one frame as written: `opcode`, the FIN bit, and masking when `masked` (clients must mask).
    public func sendFrame(opcode: UInt8, payload: [UInt8], fin: Bool = true, masked: Bool = true) async throws {
        try await socket.send(Self.frameBytes(opcode: opcode, payload: payload, fin: fin, masked: masked))
    }

    /// The bytes of one frame (see ``sendFrame(opcode:payload:fin:masked:)``).
    static func frameBytes(opcode: UInt8, payload: [UInt8], fin: Bool = true, masked: Bool = true) -> [UInt8] {
        var out: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        let maskBit: UInt8 = masked ? 0x80 : 0
        if payload.count < 126 {
            out.append(maskBit | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            out.append(maskBit | 126)
            out.append(contentsOf: [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)])
        } else {
            out.append(maskBit | 127)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: payload.count >> shift)) }
        }
        if masked {
            let key: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
            out.append(contentsOf: key)
            var masked = payload
            masked.withUnsafeMutableBufferPointer { buffer in
                for index in buffer.indices { buffer[index] ^= key[index & 3] }
            }
            out.append(contentsOf: masked)
        } else {
            out.append(contentsOf: payload)
        }
        return out
    }

    /// Sends `count` copies of one mux frame in masked text frames, in one write (a flood of pings).
    public func send(_ frame: MuxFrame, times count: Int) async throws {
        try await send([MuxFrame](repeating: frame, count: count))
    }

    /// Sends mux frames in masked text frames, all in one write, so the server reads them together.
    public func send(_ frames: [MuxFrame]) async throws {
        var all: [UInt8] = []
        for frame in frames { all.append(contentsOf: Self.frameBytes(opcode: 0x1, payload: frame.encoded())) }
        try await socket.send(all)
    }

    /// Sends a masked text frame.
    public func sendText(_ text: [UInt8]) async throws {
        try await sendFrame(opcode: 0x1, payload: text)
    }

    /// Sends one mux frame in a masked text frame.
    public func send(_ frame: MuxFrame) async throws {
        try await sendText(frame.encoded())
    }

    /// The next frame from the server; nil once the connection closed. Throws after `timeoutMs`.
    public func nextFrame(timeoutMs: Int = 5_000) async throws -> WebSocketFrame? {
        while true {
            let event = parser.next(in: pending, at: &parsed)
            if parsed >= 1 << 20 || parsed == pending.count {
                pending.removeFirst(parsed)
                parsed = 0
            }
            switch event {
            case .frame(let frame): return frame
            case .failure(let failure): throw StreamsError.internalError("the server broke the framing: \(failure)")
            case .needMoreData: break
            }
            let chunk = try await socket.receive(timeoutMs: timeoutMs)
            if chunk.isEmpty { return nil }
            pending.append(contentsOf: chunk)
        }
    }

    /// The next mux frame, skipping the server's keepalive pings (and RFC control frames); nil once
    /// the connection closed or sent a close frame.
    public func nextMuxFrame(timeoutMs: Int = 5_000) async throws -> MuxFrame? {
        for _ in 0..<1_000 {
            guard let frame = try await nextFrame(timeoutMs: timeoutMs) else { return nil }
            switch frame.opcode {
            case .close: return nil
            case .text:
                let mux = try MuxFrame.decode(frame.payload).get()
                if mux.controlType == .ping { continue }
                return mux
            default: continue
            }
        }
        return nil
    }

    /// Reads until the server closes the connection; returns the close frame's code if one came.
    public func closeCode(timeoutMs: Int = 5_000) async throws -> WebSocketCloseCode? {
        try await closeFrame(timeoutMs: timeoutMs)?.closeCode
    }

    /// Reads (and skips) up to `maxFrames` frames until the server's close frame, which is returned; nil
    /// when the connection ended without one.
    public func closeFrame(timeoutMs: Int = 5_000, maxFrames: Int = 10_000) async throws -> WebSocketFrame? {
        for _ in 0..<maxFrames {
            guard let frame = try await nextFrame(timeoutMs: timeoutMs) else { return nil }
            if frame.opcode == .close { return frame }
        }
        return nil
    }
}

extension MuxFrame {
    /// The error a mux `error` frame (or a data frame with `mux::close`/`mux::error`) carries.
    public var carriedError: StreamsError? {
        guard let payload else { return nil }
        return MuxControlMessage.decode(payload)?.streamError
    }
}
