import StreamCore

/// A frame header (2 to 14 bytes) kept inline, so the server can send a large payload as two
/// buffers (header, then the payload untouched) with one `writev` instead of copying it.
public struct WebSocketFrameHeader: Sendable, Hashable {
    /// 16 bytes of inline storage; the first `count` are the header.
    private var low: UInt64 = 0
    private var high: UInt64 = 0
    /// The header's length in bytes.
    public private(set) var count = 0

    /// The header of a single final frame. `maskKey` (memory order, as the bytes go on the wire) is
    /// given by clients only.
    init(opcode: WebSocketOpcode, payloadLength: Int, maskKey: UInt32?) {
        precondition(payloadLength >= 0, "negative payload length")
        var storage = (UInt64(0), UInt64(0))
        count = Swift.withUnsafeMutableBytes(of: &storage) { out in
            out[0] = 0x80 | opcode.rawValue
            let maskBit: UInt8 = maskKey == nil ? 0 : 0x80
            var position: Int
            if payloadLength < 126 {
                out[1] = maskBit | UInt8(payloadLength)
                position = 2
            } else if payloadLength <= 0xFFFF {
                out[1] = maskBit | 126
                out[2] = UInt8(payloadLength >> 8)
                out[3] = UInt8(payloadLength & 0xFF)
                position = 4
            } else {
                out[1] = maskBit | 127
                let length = UInt64(payloadLength)
                for i in 0..<8 { out[2 + i] = UInt8(truncatingIfNeeded: length >> (56 - 8 * UInt64(i))) }
                position = 10
            }
            if let maskKey {
                out.storeBytes(of: maskKey, toByteOffset: position, as: UInt32.self)
                position += 4
            }
            return position
        }
        low = storage.0
        high = storage.1
    }

    /// Calls `body` with the header bytes.
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        let storage = (low, high)
        return try Swift.withUnsafeBytes(of: storage) { try body(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
    }

    /// The header bytes as an array.
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }
}

/// Encodes the frames coordd sends: text (always one unfragmented frame), ping, pong and close.
///
/// A client masks every frame with a fresh key from `RAND_bytes` (drawn a pool at a time); a server
/// never masks. Encoding appends to a caller's buffer, so a connection can batch several frames into
/// one write; for a large server payload, `unmaskedHeader(_:payloadLength:)` avoids copying it.
/// The caller keeps text payloads valid UTF-8 (JSON encoders produce nothing else) and under the
/// peer's frame limit (the mux layer caps messages at 6 MiB, below streamkit's 8 MiB frame cap).
public struct WebSocketFrameEncoder: Sendable {
    /// Which end this encoder writes for (it decides masking).
    public let role: WebSocketRole
    private var maskKeys = MaskKeyPool()

    /// Creates an encoder for frames sent from `role`'s end.
    public init(role: WebSocketRole) {
        self.role = role
    }

    /// The header of an unmasked (server) frame carrying `payloadLength` bytes; send the payload
    /// itself right after it.
    public static func unmaskedHeader(_ opcode: WebSocketOpcode, payloadLength: Int) -> WebSocketFrameHeader {
        precondition(opcode != .continuation && opcode != .binary, "coordd sends text and control frames only")
        return WebSocketFrameHeader(opcode: opcode, payloadLength: payloadLength, maskKey: nil)
    }

    /// Appends one final frame with `payload`, masked in the client role.
    public mutating func encode(_ opcode: WebSocketOpcode, payload: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        precondition(opcode != .continuation && opcode != .binary, "coordd sends text and control frames only")
        precondition(
            !opcode.isControl || payload.count <= WebSocketLimits.maxControlPayloadBytes,
            "control frame payload of \(payload.count) bytes exceeds 125")
        let key: UInt32? = role == .client ? maskKeys.nextKey() : nil
        let header = WebSocketFrameHeader(opcode: opcode, payloadLength: payload.count, maskKey: key)
        let needed = out.count + header.count + payload.count
        if out.capacity < needed {
            // Doubling keeps appending many frames to one buffer linear; reserving the exact size
            // would reallocate (and copy everything) on every frame.
            out.reserveCapacity(max(needed, 2 * out.capacity))
        }
        header.withUnsafeBytes { out.append(contentsOf: $0) }
        let start = out.count
        out.append(contentsOf: payload)
        if let key {
            out.withUnsafeMutableBytes { buffer in
                let masked = UnsafeMutableRawBufferPointer(rebasing: buffer[start...])
                WebSocketMasking.apply(key: key, keyOffset: 0, to: masked)
            }
        }
    }

    /// Appends a text frame.
    public mutating func encodeText(_ payload: [UInt8], into out: inout [UInt8]) {
        payload.withUnsafeBytes { encode(.text, payload: $0, into: &out) }
    }

    /// Appends a text frame holding `text`'s UTF-8.
    public mutating func encodeText(_ text: String, into out: inout [UInt8]) {
        var text = text
        text.withUTF8 { encode(.text, payload: UnsafeRawBufferPointer($0), into: &out) }
    }

    /// Appends a ping; `payload` is at most 125 bytes.
    public mutating func encodePing(_ payload: [UInt8] = [], into out: inout [UInt8]) {
        payload.withUnsafeBytes { encode(.ping, payload: $0, into: &out) }
    }

    /// Appends a pong, normally echoing a ping's payload (at most 125 bytes).
    public mutating func encodePong(_ payload: [UInt8], into out: inout [UInt8]) {
        payload.withUnsafeBytes { encode(.pong, payload: $0, into: &out) }
    }

    /// Appends a close frame. With no code the body is empty (the peer sees 1005); the reason is cut
    /// at a character boundary to the 123 bytes a close frame leaves for it.
    public mutating func encodeClose(code: WebSocketCloseCode?, reason: String = "", into out: inout [UInt8]) {
        guard let code else {
            precondition(reason.isEmpty, "a close reason needs a close code")
            encode(.close, payload: UnsafeRawBufferPointer(start: nil, count: 0), into: &out)
            return
        }
        precondition(code.isValidOnWire, "close code \(code.rawValue) may not be sent")
        var body: [UInt8] = [UInt8(code.rawValue >> 8), UInt8(code.rawValue & 0xFF)]
        body.append(contentsOf: InputExcerpt.utf8Prefix(reason, maxBytes: WebSocketLimits.maxControlPayloadBytes - 2))
        body.withUnsafeBytes { encode(.close, payload: $0, into: &out) }
    }
}
