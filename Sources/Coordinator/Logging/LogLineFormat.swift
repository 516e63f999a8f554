import StreamCore

/// How a log line is written; both carry the same keys, `ts`, `level`, `msg` and then the fields.
public enum LogLineFormat: String, Sendable, Hashable, CaseIterable {
    /// `ts=2026-01-01T00:00:00.000Z level=info msg=listening addr=127.0.0.1:7070`
    case logfmt
    /// `{"ts":"2026-01-01T00:00:00.000Z","level":"info","msg":"listening","addr":"127.0.0.1:7070"}`:
    /// whole numbers and booleans bare, everything else a string.
    case json

    /// One line of this format, ending in a line feed.
    func line(timestampMs: Int64, level: LogLevel, message: String, fields: [(String, LogValue)]) -> String {
        let ts = UTCTimestamp.rfc3339(milliseconds: timestampMs)
        switch self {
        case .logfmt:
            var line = "ts=" + ts + " level=\(level) msg=" + Self.quoteIfNeeded(message)
            for (key, value) in fields {
                line += " " + Self.sanitizedKey(key) + "=" + Self.quoteIfNeeded(value.text)
            }
            return line + "\n"
        case .json:
            var writer = JSONWriter(capacity: 128 + message.utf8.count + fields.count * 32)
            writer.beginObject()
            writer.key("ts")
            writer.string(ts)
            writer.key("level")
            writer.string(level.description)
            writer.key("msg")
            writer.string(message)
            for (key, value) in fields {
                writer.key(escaping: Self.sanitizedKey(key))
                switch value {
                case .text(let text): writer.string(text)
                case .number(let digits): writer.raw(Array(digits.utf8))
                case .bool(let flag): writer.bool(flag)
                }
            }
            writer.endObject()
            return String(decoding: writer.bytes, as: UTF8.self) + "\n"
        }
    }

    /// A value as logfmt writes it: bare when it is a plain word, otherwise in double quotes with `"`,
    /// `\` and control characters escaped, so one event is always exactly one line.
    static func quoteIfNeeded(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.unicodeScalars.contains {
            $0 == " " || $0 == "=" || $0 == "\"" || $0 == "\\" || $0.value < 0x20 || $0.value == 0x7F
        }
        guard needsQuotes else { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += "\\u" + String(repeating: "0", count: scalar.value < 0x10 ? 3 : 2) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// A key reduced to letters, digits, `_`, `.` and `-` (keys are chosen in code; this only keeps a
    /// careless one from breaking the line's syntax), in both formats so they carry the same keys.
    static func sanitizedKey(_ key: String) -> String {
        let kept = key.unicodeScalars.map { scalar -> Character in
            let ok = (scalar.properties.isAlphabetic && scalar.isASCII) || ("0"..."9").contains(scalar)
                || scalar == "_" || scalar == "." || scalar == "-"
            return ok ? Character(scalar) : "_"
        }
        return kept.isEmpty ? "_" : String(kept)
    }
}

/// A field's value: text, or a whole number or a boolean, which JSON writes bare.
enum LogValue: Sendable, Hashable {
    case text(String)
    /// The decimal digits of a whole number.
    case number(String)
    case bool(Bool)

    /// The value of a field given in code: integers and booleans keep their kind.
    init(_ value: any CustomStringConvertible) {
        switch value {
        case let flag as Bool: self = .bool(flag)
        case let integer as any BinaryInteger: self = .number(integer.description)
        default: self = .text(value.description)
        }
    }

    /// The value as logfmt writes it (before quoting).
    var text: String {
        switch self {
        case .text(let text): text
        case .number(let digits): digits
        case .bool(let flag): flag ? "true" : "false"
        }
    }
}
