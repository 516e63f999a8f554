/// Reading logfmt lines (`key=value key="quoted value" bare`), as coordd writes its log and the cluster
/// lines of `/readyz`; shared by the tools that read them (coordctl, coordbench).
public enum Logfmt {
    /// The fields of one line, in order: a bare `key` has a nil value; a value may be double-quoted, with
    /// `\"` and `\\` escapes inside.
    public static func fields(_ line: Substring) -> [(key: String, value: String?)] {
        var fields: [(key: String, value: String?)] = []
        var rest = line[...]
        while true {
            rest = rest.drop { $0 == " " }
            guard !rest.isEmpty else { return fields }
            let keyEnd = rest.firstIndex { $0 == "=" || $0 == " " } ?? rest.endIndex
            let key = String(rest[..<keyEnd])
            rest = rest[keyEnd...]
            guard rest.first == "=" else {
                fields.append((key, nil))
                continue
            }
            rest = rest.dropFirst()
            if rest.first == "\"" {
                var value = ""
                var index = rest.index(after: rest.startIndex)
                while index < rest.endIndex, rest[index] != "\"" {
                    if rest[index] == "\\", rest.index(after: index) < rest.endIndex { index = rest.index(after: index) }
                    value.append(rest[index])
                    index = rest.index(after: index)
                }
                fields.append((key, value))
                rest = index < rest.endIndex ? rest[rest.index(after: index)...] : rest[rest.endIndex...]
            } else {
                let valueEnd = rest.firstIndex(of: " ") ?? rest.endIndex
                fields.append((key, String(rest[..<valueEnd])))
                rest = rest[valueEnd...]
            }
        }
    }
}
