import Transport

extension CoorddConnection {
    /// One WebSocket connection to the daemon at `url` (`ws://host:port`; the provider appends
    /// `/streamz`, so a URL that already ends with it is trimmed), opened by the first stream: every
    /// stream opened through it shares the connection, as a service's streams do.
    static func open(url: String, loops: EventLoopGroup) async throws -> CoorddConnection {
        let base = url.hasSuffix("/streamz") ? String(url.dropLast("/streamz".count)) : url
        let provider = try WebSocketProvider(url: base, group: loops)
        return CoorddConnection(provider: provider) { Task { await provider.close() } }
    }
}
