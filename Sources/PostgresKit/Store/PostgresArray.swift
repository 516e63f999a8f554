import StreamCore

/// PostgreSQL array literals for text parameters (`'{1,2,NULL}'`, `'{"a","b\"c"}'`), cast in the
/// statement (`$1::bigint[]`): one parameter carries a whole column of a chunk.
enum PostgresArray {
    /// `{1,NULL,3}`.
    static func integers(_ values: [Int64?]) -> String {
        "{" + values.map { $0.map(String.init) ?? "NULL" }.joined(separator: ",") + "}"
    }

    /// `{"a",NULL,"b\"c"}`: every element quoted, `"` and `\` escaped.
    static func text(_ values: [String?]) -> String {
        var out = "{"
        for (i, value) in values.enumerated() {
            if i > 0 { out += "," }
            guard let value else { out += "NULL"; continue }
            out += "\""
            for c in value.unicodeScalars {
                if c == "\"" || c == "\\" { out += "\\" }
                out.unicodeScalars.append(c)
            }
            out += "\""
        }
        return out + "}"
    }

    static func text(_ values: [String]) -> String { text(values.map { Optional($0) }) }
}

/// Entry metadata as the `metadata` column holds it: the JSON object entries carry on the wire.
enum PostgresMetadata {
    static func encode(_ map: [String: String]) -> String {
        var writer = JSONWriter()
        writer.stringMap(map)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    static func decode(_ text: String) throws(StreamsError) -> [String: String]? {
        let value: JSONValue
        do {
            value = try JSONValue.parse(text)
        } catch {
            throw .storage("postgres: stored metadata is not JSON: \(error.message)")
        }
        return try JSONFields(.object(["metadata": value])).stringMap("metadata")
    }
}
