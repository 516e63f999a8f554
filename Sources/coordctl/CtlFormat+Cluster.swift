import StreamCore

extension CtlFormat {
    /// The fields of one logfmt line (`key=value key="quoted value"`), in order; a bare word is a key
    /// with an empty value. Quoted values undo `\"` and `\\`.
    static func logfmtFields(_ line: String) -> [(key: String, value: String)] {
        Logfmt.fields(line[...]).map { ($0.key, $0.value ?? "") }
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
