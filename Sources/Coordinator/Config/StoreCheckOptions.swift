import StreamCore

/// `coordd check`: which data directory and stores to read, and whether to repair them.
public struct StoreCheckOptions: Sendable, Hashable {
    /// The data directory (as for the daemon: `--data-dir`, `COORDD_DATA_DIR`, or `./coordd-data`).
    public var dataDirectory: String
    /// Only this store; nil for every store in the directory.
    public var store: WireUUID?
    /// Cut damaged logs back to their last committed batch before the damage.
    public var repair: Bool
    /// Say what a repair would remove, and change nothing.
    public var dryRun: Bool

    /// Options for `dataDirectory`; every store unless `store` is given.
    public init(dataDirectory: String = DaemonConfiguration().dataDirectory, store: WireUUID? = nil, repair: Bool = false,
                dryRun: Bool = false) {
        self.dataDirectory = dataDirectory
        self.store = store
        self.repair = repair
        self.dryRun = dryRun
    }

    /// Options from the arguments after `check` and the environment.
    static func parse(arguments: [String], environment: [String: String]) throws(DaemonConfigurationError) -> DaemonInvocation {
        if arguments.contains(where: { $0 == "--help" || $0 == "-h" }) { return .help(helpText) }
        var options = StoreCheckOptions()
        if let directory = environment[DaemonOption.dataDir.environmentName ?? ""], !directory.isEmpty {
            options.dataDirectory = directory
        }
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            let (name, inline) = argument.firstIndex(of: "=").map {
                (String(argument[..<$0]), Optional(String(argument[argument.index(after: $0)...])))
            } ?? (argument, nil)
            func value() throws(DaemonConfigurationError) -> String {
                guard let text = inline ?? remaining.popFirst(), !text.isEmpty else {
                    throw DaemonConfigurationError(setting: name, "needs a value")
                }
                return text
            }
            switch name {
            case "--data-dir": options.dataDirectory = try value()
            case "--store":
                let text = try value()
                guard let store = WireUUID(text) else { throw DaemonConfigurationError(setting: name, "\"\(text)\" is not a UUID") }
                options.store = store
            case "--repair": options.repair = true
            case "--dry-run": options.dryRun = true
            default:
                throw DaemonConfigurationError(setting: nil, "unknown argument \(argument) for coordd check (see coordd check --help)")
            }
        }
        return .check(options)
    }

    /// The `coordd check --help` text.
    public static var helpText: String {
        """
        Usage: coordd check [--data-dir DIR] [--store UUID] [--repair] [--dry-run]

        Reads every log of every store in the data directory (the entries' log and the lease log) the way
        the daemon's open does, and reports per store and file what is intact and where damage starts.
        It takes the data directory's lock, so it refuses to run while a daemon uses the directory.

          --data-dir DIR   the daemon's data directory [env COORDD_DATA_DIR; default ./coordd-data]
          --store UUID     only this store
          --repair         cut each log that does not open back to the end of its last committed batch
                           before the damage, removing the later files; prints exactly what it removes
          --dry-run        print what --repair would remove, and change nothing

        Exit status: 0 every log opens (nothing damaged, only a torn tail the open cuts off itself, or
        repaired); 1 a log does not open and was left as it is; 2 bad usage; 3 the check could not run
        (the directory is in use by a daemon, or cannot be read).

        """
    }
}
