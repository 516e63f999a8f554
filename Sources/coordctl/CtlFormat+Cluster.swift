extension CtlFormat {
    /// The fields of one logfmt line (`key=value key="quoted value"`), in order; a bare word is a key
    /// with an empty value. Quoted values undo `\"` and `\\`.
    static func logfmtFields(_ line: String) -> [(key: String, value: String)] {
        var fields: [(key: String, value: String)] = []
        var rest = Substring(line)
        while let start = rest.firstIndex(where: { $0 != " " }) {
            rest = rest[start...]
            let keyEnd = rest.firstIndex { $0 == "=" || $0 == " " } ?? rest.endIndex
            let key = String(rest[..<keyEnd])
            rest = rest[keyEnd...]
            guard rest.first == "=" else {
                fields.append((key, ""))
                continue
            }
            rest = rest.dropFirst()
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                while let c = rest.first, c != "\"" {
                    rest = rest.dropFirst()
                    if c == "\\", let escaped = rest.first {
                        value.append(escaped)
                        rest = rest.dropFirst()
                    } else {
                        value.append(c)
                    }
                }
                rest = rest.dropFirst()
            } else {
                let valueEnd = rest.firstIndex(of: " ") ?? rest.endIndex
                value = String(rest[..<valueEnd])
                rest = rest[valueEnd...]
            }
            fields.append((key, value))
        }
        return fields
    }

    /// The cluster's daemons as a table under the server's readiness.
    static func cluster(_ nodes: [[(key: String, value: String)]], readiness: String) -> String {
        let columns = ["node", "self", "url", "stores", "heartbeat_age_ms"]
        let rows = nodes.map { fields in columns.map { column in fields.first { $0.key == column }?.value ?? "-" } }
        return "server: \(readiness)\n" + table(["NODE", "SELF", "URL", "STORES", "HEARTBEAT AGE MS"], rows)
    }

    /// The cluster's daemons, one JSON object per line with their fields as strings.
    static func clusterJSON(_ nodes: [[(key: String, value: String)]]) -> String {
        nodes.map { jsonLine($0.filter { $0.key != "cluster" }) }.joined()
    }
}
