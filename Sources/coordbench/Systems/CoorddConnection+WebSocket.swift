import Transport

extension CoorddConnection {
    /// Opens one WebSocket connection to the daemon at `url` (`ws://host:port/streamz`).
    static func open(url: String, loops: EventLoopGroup) async throws -> CoorddConnection {
        throw PeerError("cannot reach coordd at \(url): this build has no WebSocket transport")
    }
}
