/// Why `coordd` refuses to start with the settings it was given; names the flag or variable.
public struct DaemonConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The flag (`--listen`) or environment variable (`COORDD_LISTEN`) at fault, or nil when the
    /// problem is the combination of settings or an argument that is not a flag.
    public var setting: String?
    /// What is wrong and, where it helps, what to do instead.
    public var message: String

    /// Creates an error.
    public init(setting: String?, _ message: String) {
        self.setting = setting
        self.message = message
    }

    /// `--listen: invalid port "x" (expected 0-65535)`.
    public var description: String {
        setting.map { "\($0): \(message)" } ?? message
    }
}

/// What the command line asks for.
public enum DaemonInvocation: Sendable, Hashable {
    /// Run the daemon with this configuration.
    case run(DaemonConfiguration)
    /// Print this help text and exit 0.
    case help(String)
    /// Print this version line (`coordd 0.4.0`) and exit 0.
    case version(String)
    /// Check (and perhaps repair) the logs of a data directory: `coordd check`.
    case check(StoreCheckOptions)
}
