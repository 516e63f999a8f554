import Ownership
import PostgresKit
import StreamCore

extension DaemonConfiguration {
    /// Reads the configuration from command-line `arguments` (without the program name) and the
    /// process `environment`: a pure function, so only the executable touches the real ones.
    ///
    /// Flags are `--name VALUE` or `--name=VALUE`; switches take no value (`--allow-anonymous`, or
    /// `--allow-anonymous=false`). Each setting is also read from `COORDD_<NAME>`; a flag wins over
    /// its variable, and an empty variable counts as unset. `--help` anywhere wins over everything,
    /// then `--version`.
    public static func parse(arguments: [String], environment: [String: String]) throws(DaemonConfigurationError)
        -> DaemonInvocation
    {
        if arguments.first == "check" {
            return try StoreCheckOptions.parse(arguments: Array(arguments.dropFirst()), environment: environment)
        }
        if arguments.contains(where: { $0 == "--help" || $0 == "-h" }) { return .help(helpText) }
        if arguments.contains(DaemonOption.version.flag) { return .version(BuildInfo.versionLine("coordd")) }
        var values: [DaemonOption: (value: String, setting: String)] = [:]
        for option in DaemonOption.allCases {
            if let name = option.environmentName, let value = environment[name], !value.isEmpty {
                values[option] = (value, name)
            }
        }
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            i += 1
            guard argument.hasPrefix("--") else {
                throw DaemonConfigurationError(
                    setting: nil, "unexpected argument \"\(argument)\" (coordd takes only flags; see --help)")
            }
            let (name, inline) = split(argument)
            guard let option = DaemonOption.allCases.first(where: { $0.flag == name }) else {
                throw DaemonConfigurationError(setting: nil, "unknown flag \(name) (see --help)")
            }
            if option.valueName == nil {
                values[option] = (inline ?? "true", option.flag)
            } else if let inline {
                values[option] = (inline, option.flag)
            } else {
                guard i < arguments.count else {
                    throw DaemonConfigurationError(setting: option.flag, "needs a value (\(option.valueName ?? ""))")
                }
                values[option] = (arguments[i], option.flag)
                i += 1
            }
        }
        var configuration = DaemonConfiguration()
        // In table order, so with several bad settings the same one is always reported.
        for option in DaemonOption.allCases {
            guard let entry = values[option] else { continue }
            try configuration.apply(option, entry.value, setting: entry.setting)
        }
        try configuration.validate(settings: values.mapValues(\.setting))
        return .run(configuration)
    }

    /// `--name=value` → (`--name`, `value`); `--name` → (`--name`, nil).
    private static func split(_ argument: String) -> (String, String?) {
        guard let equals = argument.firstIndex(of: "=") else { return (argument, nil) }
        return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
    }

    private mutating func apply(_ option: DaemonOption, _ value: String, setting: String) throws(DaemonConfigurationError) {
        func fail(_ message: String) -> DaemonConfigurationError { DaemonConfigurationError(setting: setting, message) }
        func file() throws(DaemonConfigurationError) -> String {
            guard !value.isEmpty else { throw fail("needs a file path") }
            return value
        }
        func flag() throws(DaemonConfigurationError) -> Bool {
            guard let flag = Self.boolean(value) else { throw fail("must be true or false (1/0, yes/no), got \"\(value)\"") }
            return flag
        }
        func count(atMost maximum: Int) throws(DaemonConfigurationError) -> Int {
            guard let count = Int(value), count >= 1, count <= maximum else {
                throw fail("must be a whole number from 1 to \(maximum), got \"\(value)\"")
            }
            return count
        }
        func duration(atMost maximum: Int64, zeroMeans: String = "") throws(DaemonConfigurationError) -> Int64 {
            let ms = try Self.duration(value, setting: setting)
            guard ms <= maximum else {
                throw fail("must be at most \(DurationText.format(milliseconds: maximum))\(zeroMeans), got \(value)")
            }
            return ms
        }
        switch option {
        case .listen:
            switch ListenAddress.parse(value) {
            case .success(let address): listen = address
            case .failure(let error): throw fail(error.message)
            }
        case .dataDir:
            guard !value.isEmpty else { throw fail("needs a directory") }
            dataDirectory = value
        case .storage:
            guard let kind = Storage(rawValue: value) else { throw fail("must be file, memory or postgres, got \"\(value)\"") }
            storage = kind
        case .tlsCert: tlsCertificateFile = try file()
        case .tlsKey: tlsKeyFile = try file()
        case .tlsClientCA: tlsClientCAFile = try file()
        case .jwtHS256SecretFile: jwtHS256SecretFile = try file()
        case .jwtPublicKey: jwtPublicKeyFile = try file()
        case .clusterSecretFile: clusterSecretFile = try file()
        case .allowAnonymous:
            allowAnonymous = try flag()
        case .presenceTTLFloor:
            let ms = try Self.duration(value, setting: setting)
            let maximum = DaemonConfigurationLimits.maxPresenceTTLFloorMs
            guard ms > 0, ms <= maximum else {
                throw fail("must be more than 0 and at most \(DurationText.format(milliseconds: maximum)), got \(value)")
            }
            presenceTTLFloorMs = ms
        case .logLevel:
            guard let level = LogLevel(name: value) else { throw fail("must be debug, info, warn or error, got \"\(value)\"") }
            logLevel = level
        case .logFormat:
            guard let format = LogLineFormat(rawValue: value.lowercased()) else { throw fail("must be logfmt or json, got \"\(value)\"") }
            logFormat = format
        case .metricsAnonymous:
            metricsAnonymous = try flag()
        case .shutdownGrace:
            shutdownGraceMs = try duration(atMost: DaemonConfigurationLimits.maxShutdownGraceMs)
        case .maxOpenStores:
            maxOpenStores = try count(atMost: DaemonConfigurationLimits.maxOpenStores)
        case .storeIdleClose:
            storeIdleCloseMs = try duration(atMost: DaemonConfigurationLimits.maxStoreIdleCloseMs, zeroMeans: " (0 = never)")
        case .autoCreateStores:
            autoCreateStores = try flag()
        case .stores:
            var stores: [WireUUID] = []
            var seen: Set<WireUUID> = []
            for text in value.split(separator: ",", omittingEmptySubsequences: false) {
                guard let store = WireUUID(text), !store.isNil else {
                    throw fail("takes store UUIDs separated by commas, got \"\(text)\"")
                }
                if seen.insert(store).inserted { stores.append(store) }
            }
            let maximum = DaemonConfigurationLimits.maxDeclaredStores
            guard stores.count <= maximum else { throw fail("declares \(stores.count) stores; at most \(maximum)") }
            declaredStores = stores
        case .maxOutboundMemory:
            let bytes: Int64
            do {
                bytes = try SizeText.bytes(value)
            } catch {
                throw fail(error.message)
            }
            let minimum = DaemonConfigurationLimits.minOutboundMemoryBytes
            guard bytes >= minimum, bytes <= Int64(Int.max) else {
                throw fail("must be at least \(SizeText.format(bytes: minimum)), got \(value)")
            }
            maxOutboundMemoryBytes = bytes
        case .postgresURL:
            guard !value.isEmpty else { throw fail("needs a libpq connection URL") }
            postgresURL = value
        case .postgresPasswordFile: postgresPasswordFile = try file()
        case .postgresPool:
            postgresPoolSize = try count(atMost: PostgresLimits.maxPoolSize)
        case .postgresStatementTimeout:
            postgresStatementTimeoutMs = try duration(atMost: DaemonConfigurationLimits.maxPostgresStatementTimeoutMs, zeroMeans: " (0 = none)")
        case .clusterNodeID:
            if let problem = ClusterNodeID.problem(with: value) { throw fail(problem) }
            clusterNodeID = value
        case .ownershipTTL:
            let ms = try Self.duration(value, setting: setting)
            guard ms >= OwnershipTiming.minTTLMs, ms <= OwnershipTiming.maxTTLMs else {
                throw fail("must be from \(DurationText.format(milliseconds: OwnershipTiming.minTTLMs)) to "
                           + "\(DurationText.format(milliseconds: OwnershipTiming.maxTTLMs)), got \(value)")
            }
            ownershipTTLMs = ms
        case .advertiseURL:
            guard value.hasPrefix("ws://") || value.hasPrefix("wss://"), value.count > 6, !value.contains(where: \.isWhitespace) else {
                throw fail("must be a ws:// or wss:// URL other daemons can reach, got \"\(value)\"")
            }
            advertiseURL = value
        case .help, .version:
            break
        }
    }

    /// Rules across settings, checked once every setting is read.
    private func validate(settings: [DaemonOption: String]) throws(DaemonConfigurationError) {
        func name(_ option: DaemonOption) -> String { settings[option] ?? option.flag }
        switch (tlsCertificateFile, tlsKeyFile) {
        case (_?, nil):
            throw DaemonConfigurationError(
                setting: name(.tlsCert), "needs \(DaemonOption.tlsKey.flag) (the certificate's private key) too")
        case (nil, _?):
            throw DaemonConfigurationError(
                setting: name(.tlsKey), "needs \(DaemonOption.tlsCert.flag) (the certificate it belongs to) too")
        default:
            break
        }
        if tlsClientCAFile != nil, tlsCertificateFile == nil {
            throw DaemonConfigurationError(
                setting: name(.tlsClientCA),
                "mutual TLS needs the listener's own \(DaemonOption.tlsCert.flag) and \(DaemonOption.tlsKey.flag)")
        }
        if storage == .postgres, postgresURL == nil {
            throw DaemonConfigurationError(
                setting: name(.storage), "postgres storage needs \(DaemonOption.postgresURL.flag) (or COORDD_POSTGRES_URL)")
        }
        if storage != .postgres {
            for option in [DaemonOption.postgresURL, .postgresPasswordFile, .postgresPool, .postgresStatementTimeout, .clusterNodeID,
                           .ownershipTTL, .advertiseURL]
            where settings[option] != nil {
                throw DaemonConfigurationError(setting: name(option), "applies only with \(DaemonOption.storage.flag) postgres")
            }
        }
        if !listen.isLoopback, !requiresTokens, !allowAnonymous {
            throw DaemonConfigurationError(
                setting: name(.listen),
                "refusing to listen on \(listen) without authentication: anyone who can reach it could read and "
                    + "write every store. Give \(DaemonOption.jwtHS256SecretFile.flag) or \(DaemonOption.jwtPublicKey.flag) "
                    + "for bearer tokens, or \(DaemonOption.allowAnonymous.flag) to accept that risk.")
        }
    }

    private static func duration(_ value: String, setting: String) throws(DaemonConfigurationError) -> Int64 {
        do {
            return try DurationText.milliseconds(value)
        } catch {
            throw DaemonConfigurationError(setting: setting, error.message)
        }
    }

    /// `1`, `true`, `yes`, `on` and their opposites, in any case.
    static func boolean(_ value: String) -> Bool? {
        switch value.lowercased() {
        case "1", "true", "yes", "on": true
        case "0", "false", "no", "off": false
        default: nil
        }
    }
}
