/// `--name value` and `--flag` options; a name given more than once (`--peer etcd --peer redis`) keeps
/// every value.
struct Options {
    private var values: [String: [String]] = [:]
    private var flags: Set<String> = []

    init(_ arguments: [String]) {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            guard argument.hasPrefix("--") else {
                index += 1
                continue
            }
            let name = String(argument.dropFirst(2))
            if index + 1 < arguments.count, !arguments[index + 1].hasPrefix("--") {
                values[name, default: []].append(arguments[index + 1])
                index += 2
            } else {
                flags.insert(name)
                index += 1
            }
        }
    }

    /// The last value given for `name`.
    func value(_ name: String) -> String? { values[name]?.last }
    /// Every value given for `name`, in order.
    func all(_ name: String) -> [String] { values[name] ?? [] }
    func int(_ name: String) -> Int? { value(name).flatMap { Int($0) } }
    func double(_ name: String) -> Double? { value(name).flatMap { Double($0) } }
    func flag(_ name: String) -> Bool { flags.contains(name) }

    /// Every option name given, values and flags alike (to reject misspelt ones).
    var names: Set<String> { flags.union(values.keys) }
}
