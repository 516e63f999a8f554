/// `--name value` and `--flag` options.
struct Options {
    private var values: [String: String] = [:]
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
                values[name] = arguments[index + 1]
                index += 2
            } else {
                flags.insert(name)
                index += 1
            }
        }
    }

    func value(_ name: String) -> String? { values[name] }
    func int(_ name: String) -> Int? { values[name].flatMap { Int($0) } }
    func flag(_ name: String) -> Bool { flags.contains(name) }
}
