import Glibc
import StreamCore

/// The in-band end of one logical stream, carried inside a `data` frame's payload (streamkit's
/// `ErrorMessage`, streamkit v1 §3.3): `{"type":"mux::close"}`, `{"type":"mux::close","err":"…"}`
/// or `{"type":"mux::error","err":"…"}`.
///
/// coordd always adds `code` (1 transient, 2 permanent) and `error` (the ``StreamsError`` name) next
/// to `err`, so its clients get typed errors; a streamkit client reads `err` and ignores the rest.
public enum MuxControlMessage: Sendable, Hashable {
    /// The sender finished its half of the stream, cleanly (nil) or with an error.
    case close(StreamsError?)
    /// The stream failed (a muxer-level problem such as `access denied`).
    case error(StreamsError)

    /// The prefix that tells control messages from domain objects with a `type` field:
    /// streamkit's `controlMsgSentinel`.
    public static let sentinel = "mux::"

    /// Largest payload examined for a control message. Control messages are a type and an error text
    /// (a few dozen bytes); coordd's bound keeps a 6 MiB record from being scanned for the sentinel.
    public static let maximumBytes = 64 << 10

    /// The error the receiver's stream ends with; nil for a clean close.
    public var streamError: StreamsError? {
        switch self {
        case .close(let error): error
        case .error(let error): error
        }
    }

    /// The JSON text, e.g. `{"type":"mux::close","err":"…","code":2,"error":"sequence_gap"}`.
    public func encoded() -> [UInt8] {
        var w = JSONWriter(capacity: 96)
        w.beginObject()
        w.key("type")
        switch self {
        case .close(let error):
            w.string("mux::close")
            if let error { Self.writeError(error, to: &w) }
        case .error(let error):
            w.string("mux::error")
            Self.writeError(error, to: &w)
        }
        w.endObject()
        return w.bytes
    }

    private static func writeError(_ error: StreamsError, to w: inout JSONWriter) {
        w.key("err")
        w.string(error.message)
        w.key("code")
        w.int(Int64(error.code.rawValue))
        w.key("error")
        w.string(error.name)
    }

    /// The control message in `payload`, or nil when the payload is application data.
    ///
    /// A payload is a control message when it is a JSON object whose `type` is a string starting with
    /// `mux::`; any other `type` is a domain field (streamkit's
    /// `TestShouldDecodeIgnoresDomainObjectWithTypeField`). Payloads without the sentinel anywhere, and
    /// payloads over ``maximumBytes``, are recognised as data without being parsed.
    public static func decode(_ payload: [UInt8]) -> MuxControlMessage? {
        guard payload.count <= maximumBytes, payload.first(where: { !isJSONSpace($0) }) == UInt8(ascii: "{"),
            containsSentinel(payload)
        else { return nil }
        guard case .object(let members)? = try? JSONValue.parse(payload),
            case .string(let type)? = members["type"], type.hasPrefix(sentinel)
        else { return nil }
        let text: String
        switch members["err"] {
        case .string(let value)?: text = value
        default: text = ""
        }
        let error = typedError(text: text, members: members)
        switch type {
        case "mux::close":
            return .close(text.isEmpty && error == nil ? nil : error ?? remoteError(text))
        case "mux::error":
            return .error(error ?? remoteError(text.isEmpty ? "remote error" : text))
        default:
            // streamkit's Decode: `unknown error type "<type>": <err>`.
            return .error(remoteError("unknown error type \"\(InputExcerpt.excerpt(type))\": \(text)"))
        }
    }

    /// The error coordd's own peers describe with `code` and `error`; nil when they are absent.
    private static func typedError(text: String, members: JSONObject) -> StreamsError? {
        guard case .string(let name)? = members["error"], !name.isEmpty else { return nil }
        let code: ErrorCode
        switch members["code"] {
        case .int(let value)?: code = ErrorCode(rawValue: Int(value)) ?? classify(text)
        default: code = classify(text)
        }
        return StreamsError(code, name: name, message: text)
    }

    /// An error from a peer that sent only text (a streamkit server).
    static func remoteError(_ text: String) -> StreamsError {
        StreamsError(classify(text), name: "remote_error", message: text)
    }

    /// Transient unless `text` is one of streamkit's permanent failures (streamkit v1 §7.2).
    static func classify(_ text: String) -> ErrorCode {
        if text == "access denied" || text == "sequence mismatch" || text.hasPrefix("sequence gap")
            || text.hasPrefix("invalid request msg type")
        {
            return .permanent
        }
        if text.hasPrefix("type \""), text.hasSuffix("\" is not registered") { return .permanent }
        return .transient
    }

    private static func isJSONSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private static func containsSentinel(_ payload: [UInt8]) -> Bool {
        payload.withUnsafeBytes { buffer in
            guard var cursor = buffer.baseAddress, buffer.count >= 5 else { return false }
            var remaining = buffer.count
            // `memchr` for each "m", then a five-byte compare: every data payload received passes here.
            return "mux::".withCString { needle in
                while remaining >= 5, let hit = memchr(cursor, 0x6D, remaining - 4) {
                    if memcmp(hit, needle, 5) == 0 { return true }
                    let advance = UnsafeRawPointer(hit) - cursor + 1
                    cursor += advance
                    remaining -= advance
                }
                return false
            }
        }
    }
}
