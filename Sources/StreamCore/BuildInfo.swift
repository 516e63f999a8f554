/// What this build is: one version for the daemon, the command-line tool and the client library, so
/// `coordd --version`, `coordctl --version`, `/healthz` and the start-up log line always agree.
public enum BuildInfo {
    /// The release version (semantic versioning: the wire protocol and the on-disk formats change
    /// incompatibly only with the major number).
    public static let version = "0.4.0"

    /// A program's name and the version, as `--version` prints it: `coordd 0.4.0`.
    public static func versionLine(_ program: String) -> String {
        program + " " + version
    }
}
