import StreamCore

/// Parses coordctl's command line: a pure function over the arguments and the environment.
enum CtlArguments {
    /// Options with the commands they belong to (nil: every command) and whether they take a value.
    static let options: [String: (takesValue: Bool, commands: Set<String>?)] = [
        "--server": (true, nil), "--token": (true, nil), "--ca-file": (true, nil), "--cert-file": (true, nil),
        "--key-file": (true, nil), "--store": (true, nil), "--json": (false, nil), "--watch": (false, ["workers"]),
        "--id": (true, ["worker"]), "--meta": (true, ["worker"]), "--heartbeat": (true, ["worker"]),
        "--holder": (true, ["lease acquire", "lease renew", "lease release"]),
        "--ttl": (true, ["lease acquire", "lease renew", "token mint"]), "--follow": (false, ["consume"]),
        "--ready": (false, ["health"]), "--wait": (true, ["lease acquire"]),
        "--hs256-secret-file": (true, ["token mint"]), "--sub": (true, ["token mint"]), "--all-stores": (false, ["token mint"]),
    ]

    /// Commands with subcommands, and the subcommands as the usage error lists them.
    static let groups = ["lease": "acquire, renew, release or list", "store": "create", "token": "mint"]

    /// Reads `arguments` (without the program name). Options may come before or after the command;
    /// `--` ends them, so a key may start with a dash. `COORDD_TOKEN` supplies the token when
    /// `--token` is absent. `--help` wins over `--version`, which wins over everything else, mistakes in
    /// the rest of the line included: help is always given, with status 0.
    static func parse(_ arguments: [String], environment: [String: String]) throws(CtlUsageError) -> CtlInvocation {
        var optionError: CtlUsageError?
        var positionals: [String] = []
        var values: [String: String] = [:]
        var wantsHelp = false
        var wantsVersion = false
        var onlyPositionals = false
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            i += 1
            if onlyPositionals || !argument.hasPrefix("-") || argument == "-" {
                positionals.append(argument)
                continue
            }
            if argument == "--" {
                onlyPositionals = true
                continue
            }
            if argument == "--help" || argument == "-h" {
                wantsHelp = true
                continue
            }
            if argument == "--version" {
                wantsVersion = true
                continue
            }
            let (name, inline) = split(argument)
            guard let option = options[name] else {
                optionError = optionError ?? CtlUsageError(message: "unknown option \(name)", command: nil)
                continue
            }
            if !option.takesValue {
                if inline != nil { optionError = optionError ?? CtlUsageError(message: "\(name) takes no value", command: nil) }
                values[name] = "true"
            } else if let inline {
                values[name] = inline
            } else if i < arguments.count {
                values[name] = arguments[i]
                i += 1
            } else {
                optionError = optionError ?? CtlUsageError(message: "\(name) needs a value", command: nil)
            }
        }

        if positionals.first == "help" {
            positionals.removeFirst()
            wantsHelp = true
        }
        if wantsVersion && !wantsHelp && optionError == nil { return .version(BuildInfo.versionLine("coordctl")) }
        if let optionError, !wantsHelp { throw optionError }
        guard let first = positionals.first else {
            if wantsHelp { return .help(CtlHelp.general) }
            throw CtlUsageError(message: "missing command", command: nil)
        }
        var name = first
        var rest = Array(positionals.dropFirst())
        let subcommands = Self.groups[first]
        if let subcommands {
            guard let sub = rest.first else {
                if wantsHelp { return .help(CtlHelp.text(for: first) ?? CtlHelp.general) }
                throw CtlUsageError(message: "\(first) needs a subcommand: \(subcommands)", command: first)
            }
            name = first + " " + sub
            rest.removeFirst()
        }
        guard let help = CtlHelp.text(for: name) else {
            if wantsHelp { return .help(CtlHelp.text(for: first) ?? CtlHelp.general) }
            throw CtlUsageError(message: "unknown command \"\(name)\"", command: subcommands == nil ? nil : first)
        }
        if wantsHelp { return .help(help) }

        for flag in values.keys.sorted() {
            if let commands = options[flag]?.commands, !commands.contains(name) {
                throw CtlUsageError(message: "\(flag) is not an option of \(name)", command: name)
            }
        }
        let global = try globalOptions(values, environment: environment, command: name)
        if name == "health" {
            guard rest.isEmpty else { throw CtlUsageError(message: "health takes no arguments, got \(rest.count)", command: name) }
            return .health(global, ready: values["--ready"] != nil)
        }
        if name == "cluster" {
            guard rest.isEmpty else { throw CtlUsageError(message: "cluster takes no arguments, got \(rest.count)", command: name) }
            return .cluster(global)
        }
        if name == "completion" {
            guard rest.count == 1, let shell = CtlCompletion.Shell(rawValue: rest[0]) else {
                throw CtlUsageError(message: "completion takes one shell: bash or zsh", command: name)
            }
            return .completion(shell)
        }
        if name == "token mint" { return .tokenMint(try tokenMint(rest, values, global)) }
        let command = try command(name, rest, values)
        return .run(global, command)
    }

    private static func globalOptions(_ values: [String: String], environment: [String: String], command: String)
        throws(CtlUsageError) -> GlobalOptions
    {
        var global = GlobalOptions()
        if let server = values["--server"] {
            guard server.hasPrefix("ws://") || server.hasPrefix("wss://"), server.count > "wss://".count else {
                throw CtlUsageError(message: "--server must be a ws:// or wss:// URL, got \"\(server)\"", command: command)
            }
            global.server = server
        }
        if let token = values["--token"] ?? environment["COORDD_TOKEN"], !token.isEmpty { global.token = token }
        for flag in ["--ca-file", "--cert-file", "--key-file"] where values[flag]?.isEmpty == true {
            throw CtlUsageError(message: "\(flag) needs a file path", command: command)
        }
        global.caFile = values["--ca-file"]
        switch (values["--cert-file"], values["--key-file"]) {
        case (let certificate?, let key?):
            guard global.server.hasPrefix("wss://") else {
                throw CtlUsageError(message: "--cert-file presents a client certificate over TLS: it needs a wss:// --server", command: command)
            }
            global.certFile = certificate
            global.keyFile = key
        case (_?, nil):
            throw CtlUsageError(message: "--cert-file needs --key-file (the certificate's private key) too", command: command)
        case (nil, _?):
            throw CtlUsageError(message: "--key-file needs --cert-file (the certificate it belongs to) too", command: command)
        case (nil, nil):
            break
        }
        if let text = values["--store"] {
            guard let store = WireUUID(text) else {
                throw CtlUsageError(message: "--store must be a UUID like \(WireUUID.defaultStore), got \"\(text)\"", command: command)
            }
            global.store = store
        }
        global.json = values["--json"] != nil
        return global
    }

    private static func command(_ name: String, _ rest: [String], _ values: [String: String]) throws(CtlUsageError) -> CtlCommand {
        func arguments(_ names: [String], optional: Int = 0) throws(CtlUsageError) -> [String] {
            guard rest.count >= names.count - optional, rest.count <= names.count else {
                let expected = names.enumerated().map { $0.offset >= names.count - optional ? "[\($0.element)]" : $0.element }
                throw CtlUsageError(
                    message: "\(name) takes \(expected.isEmpty ? "no arguments" : expected.joined(separator: " ")), got \(rest.count)",
                    command: name)
            }
            return rest
        }
        func nonEmpty(_ value: String, _ what: String) throws(CtlUsageError) -> String {
            guard !value.isEmpty else { throw CtlUsageError(message: "\(what) must not be empty", command: name) }
            return value
        }
        func optionalHolder() throws(CtlUsageError) -> String? {
            try values["--holder"].map { (holder) throws(CtlUsageError) in try nonEmpty(holder, "--holder") }
        }
        func requiredHolder() throws(CtlUsageError) -> String {
            guard let holder = try optionalHolder() else {
                throw CtlUsageError(message: "\(name) needs --holder (the holder that acquired the lease)", command: name)
            }
            return holder
        }
        func duration(_ flag: String, default defaultMs: Int64) throws(CtlUsageError) -> Int64 {
            guard let text = values[flag] else { return defaultMs }
            let ms: Int64
            do {
                ms = try DurationText.milliseconds(text)
            } catch {
                throw CtlUsageError(message: "\(flag): \(error.message)", command: name)
            }
            guard ms > 0 else { throw CtlUsageError(message: "\(flag) must be more than 0", command: name) }
            return ms
        }
        func ttl() throws(CtlUsageError) -> Int64 { try duration("--ttl", default: CtlLimits.defaultLeaseTTLMs) }
        func heartbeat() throws(CtlUsageError) -> Int64 { try duration("--heartbeat", default: CtlLimits.defaultWorkerHeartbeatMs) }
        func workerID() throws(CtlUsageError) -> WireUUID? {
            guard let text = values["--id"] else { return nil }
            guard let id = WireUUID(text), !id.isNil else {
                throw CtlUsageError(message: "--id must be a UUID other than the nil UUID, got \"\(text)\"", command: name)
            }
            return id
        }
        func metadata() throws(CtlUsageError) -> [String: String] {
            guard let text = values["--meta"] else { return [:] }
            var map: [String: String] = [:]
            for pair in text.split(separator: ",") {
                guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                    throw CtlUsageError(message: "--meta takes KEY=VALUE pairs separated by commas, got \"\(pair)\"", command: name)
                }
                map[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
            return map
        }
        switch name {
        case "workers":
            _ = try arguments([])
            return .workers(watch: values["--watch"] != nil)
        case "worker":
            _ = try arguments([])
            return .worker(id: try workerID(), metadata: try metadata(), heartbeatMs: try heartbeat())
        case "lease acquire":
            let key = try nonEmpty(try arguments(["KEY"])[0], "KEY")
            let waitMs = values["--wait"] == nil ? nil : try duration("--wait", default: 0)
            return .leaseAcquire(key: key, holder: try optionalHolder(), ttlMs: try ttl(), waitMs: waitMs)
        case "lease renew":
            let key = try nonEmpty(try arguments(["KEY"])[0], "KEY")
            return .leaseRenew(key: key, holder: try requiredHolder(), ttlMs: try ttl())
        case "lease release":
            let key = try nonEmpty(try arguments(["KEY"])[0], "KEY")
            return .leaseRelease(key: key, holder: try requiredHolder())
        case "lease list":
            return .leaseList(prefix: try arguments(["PREFIX"], optional: 1).first ?? "")
        case "produce":
            let given = try arguments(["SPACE", "SEGMENT"])
            return .produce(space: try nonEmpty(given[0], "SPACE"), segment: try nonEmpty(given[1], "SEGMENT"))
        case "consume":
            let given = try arguments(["SPACE", "SEGMENT"], optional: 1)
            let segment = given.count > 1 ? try nonEmpty(given[1], "SEGMENT") : nil
            return .consume(space: try nonEmpty(given[0], "SPACE"), segment: segment, follow: values["--follow"] != nil)
        case "spaces":
            _ = try arguments([])
            return .spaces
        case "segments":
            return .segments(space: try nonEmpty(try arguments(["SPACE"])[0], "SPACE"))
        case "status":
            _ = try arguments([])
            return .status
        case "assignments":
            return .assignments(group: try arguments(["GROUP"], optional: 1).first)
        case "store create":
            let text = try arguments(["UUID"])[0]
            guard let store = WireUUID(text), !store.isNil else {
                throw CtlUsageError(message: "UUID must be a store UUID other than the nil UUID, got \"\(text)\"", command: name)
            }
            return .storeCreate(store)
        default:
            throw CtlUsageError(message: "unknown command \"\(name)\"", command: nil)
        }
    }

    /// `token mint`'s request: the secret file, and the claims but for the times (taken when it runs).
    private static func tokenMint(_ rest: [String], _ values: [String: String], _ global: GlobalOptions)
        throws(CtlUsageError) -> TokenMintRequest
    {
        let name = "token mint"
        guard rest.isEmpty else { throw CtlUsageError(message: "\(name) takes no arguments, got \(rest.count)", command: name) }
        guard let secretFile = values["--hs256-secret-file"], !secretFile.isEmpty else {
            throw CtlUsageError(message: "\(name) needs --hs256-secret-file (the daemon's --jwt-hs256-secret-file)", command: name)
        }
        if values["--all-stores"] != nil && values["--store"] != nil {
            throw CtlUsageError(message: "--all-stores and --store name different scopes: give one", command: name)
        }
        var ttlMs = CtlLimits.defaultTokenTTLMs
        if let text = values["--ttl"] {
            do {
                ttlMs = try DurationText.milliseconds(text)
            } catch {
                throw CtlUsageError(message: "--ttl: \(error.message)", command: name)
            }
            guard ttlMs >= 1_000 else { throw CtlUsageError(message: "--ttl must be at least 1s (exp counts seconds)", command: name) }
        }
        let scope = values["--all-stores"] != nil ? "streamkit::*" : "streamkit::\(global.store)"
        return TokenMintRequest(secretFile: secretFile, scopes: [scope], subject: values["--sub"] ?? "coordctl", ttlMs: ttlMs)
    }

    /// `--name=value` → (`--name`, `value`).
    private static func split(_ argument: String) -> (String, String?) {
        guard let equals = argument.firstIndex(of: "=") else { return (argument, nil) }
        return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
    }
}
