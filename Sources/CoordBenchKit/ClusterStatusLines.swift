import StreamCore

/// A daemon of a coordd cluster as one `/readyz` detail line shows it
/// (`cluster node=ID self=yes url=ws://… stores=3 heartbeat_age_ms=… view_age_ms=…`).
public struct ClusterStatusLine: Sendable, Equatable {
    /// Its `--cluster-node-id`.
    public var nodeID: String
    /// True on the line of the daemon that answered.
    public var isSelf: Bool
    /// Its advertise URL; nil when it advertises none (`-`).
    public var url: String?
    /// The stores it owned when the view was read.
    public var stores: Int?

    /// A line as parsed.
    public init(nodeID: String, isSelf: Bool, url: String?, stores: Int?) {
        self.nodeID = nodeID
        self.isSelf = isSelf
        self.url = url
        self.stores = stores
    }

    /// The cluster lines of a `/readyz` body, in order; none before the daemon's first renewal round
    /// (`cluster view=pending`) or on a daemon without a cluster.
    public static func parse(readyz body: String) -> [ClusterStatusLine] {
        body.split(whereSeparator: \.isNewline).compactMap { line in
            let fields = Logfmt.fields(line)
            guard fields.first?.key == "cluster", let node = fields.first(where: { $0.key == "node" })?.value else { return nil }
            let value = { (key: String) in fields.first { $0.key == key }?.value }
            let url = value("url")
            return ClusterStatusLine(nodeID: node, isSelf: value("self") == "yes", url: url == "-" ? nil : url,
                                     stores: value("stores").flatMap { Int($0) })
        }
    }
}

/// The daemon URLs of `--cluster-urls u1,u2,…`.
public enum ClusterURLs {
    /// The URLs of a comma-separated list, each `ws://host:port` (a trailing `/` or `/streamz` is
    /// trimmed), in order; an error naming the first that is not.
    public static func parse(_ list: String) throws(ClusterURLError) -> [String] {
        let urls = list.split(separator: ",").map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
        guard !urls.isEmpty else { throw ClusterURLError(text: list, reason: "no URL given") }
        return try urls.map { url throws(ClusterURLError) in
            var trimmed = url
            if trimmed.hasSuffix("/streamz") { trimmed.removeLast("/streamz".count) }
            while trimmed.hasSuffix("/") { trimmed.removeLast() }
            guard hostPort(of: trimmed) != nil else {
                throw ClusterURLError(text: url, reason: "not ws://HOST:PORT")
            }
            return trimmed
        }
    }

    /// `host:port` of a `ws://host:port` URL, or nil.
    public static func hostPort(of url: String) -> String? {
        guard url.hasPrefix("ws://") else { return nil }
        let rest = url.dropFirst("ws://".count)
        guard let colon = rest.lastIndex(of: ":"), colon != rest.startIndex,
              let port = Int(rest[rest.index(after: colon)...]), (1...65_535).contains(port)
        else { return nil }
        return String(rest)
    }
}

/// A `--cluster-urls` entry that is not a daemon URL.
public struct ClusterURLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The entry.
    public var text: String
    /// What is wrong with it.
    public var reason: String

    /// The error for `text`, and why.
    public init(text: String, reason: String) {
        self.text = text
        self.reason = reason
    }

    public var description: String { "--cluster-urls: \(text): \(reason)" }
}

extension Substring {
    fileprivate func trimmingSpaces() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
