import StreamCore

/// A daemon's name among the daemons sharing one PostgreSQL database (`--cluster-node-id`): what
/// `coordd_store_owner.owner_node` and `coordd_nodes.node_id` hold.
///
/// The default, `HOSTNAME:PORT` with the port the listener bound, is stable across restarts of a daemon
/// with a fixed port and unique among running daemons: two daemons on one host cannot hold one port.
public enum ClusterNodeID {
    /// Longest node id: it travels in error messages and log lines.
    public static let maxLength = 255

    /// The default id for a listener bound to `port` on this host.
    public static func defaultID(port: Int) -> String {
        "\(Posix.hostName() ?? "localhost"):\(port)"
    }

    /// The default advertise URL: the listener's own address (`ws://` or `wss://` with TLS), or nil when
    /// it listens on every address (`0.0.0.0`, `::`), which names no address another daemon can dial.
    public static func defaultAdvertiseURL(host: String, port: Int, tls: Bool) -> String? {
        guard !host.isEmpty, host != "0.0.0.0", host != "::" else { return nil }
        let bracketed = host.contains(":") ? "[\(host)]" : host
        return "\(tls ? "wss" : "ws")://\(bracketed):\(port)"
    }

    /// Why `id` cannot be a node id, or nil when it can.
    public static func problem(with id: String) -> String? {
        if id.isEmpty { return "needs a node id" }
        if id.utf8.count > maxLength { return "must be at most \(maxLength) bytes, got \(id.utf8.count)" }
        if id.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7f }) {
            return "must not contain spaces or control characters, got \"\(id)\""
        }
        return nil
    }
}
