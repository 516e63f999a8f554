import Glibc

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
        var name = [CChar](repeating: 0, count: 256)
        let host = gethostname(&name, name.count - 1) == 0 ? String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        return "\(host.isEmpty ? "localhost" : host):\(port)"
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
