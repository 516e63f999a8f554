import CoordBenchKit
import Transport

/// A minimal Redis client over RESP2: one connection, commands answered in order. One task uses it at
/// a time; pipelining is explicit (``pipeline(_:)`` writes several commands at once and reads as many
/// replies).
final class RedisClient {
    private let connection: PeerConnection
    /// The loop the connection reads on.
    var eventLoop: EventLoop { connection.eventLoop }

    private init(connection: PeerConnection) { self.connection = connection }

    /// Connects to the Redis server at `endpoint`.
    static func connect(to endpoint: Endpoint, on loop: EventLoop) async throws -> RedisClient {
        RedisClient(connection: try await PeerConnection.connect(to: endpoint, on: loop))
    }

    /// Sends one command and returns its reply (an `.error` reply is returned, not thrown).
    func command(_ arguments: [[UInt8]]) async throws -> RESPValue {
        connection.send(RESP.command(arguments))
        return try await reply()
    }

    /// Sends one command given as text.
    func command(_ arguments: String...) async throws -> RESPValue {
        try await command(arguments.map { Array($0.utf8) })
    }

    /// Sends `commands` in one write and returns their replies in order.
    func pipeline(_ commands: [[[UInt8]]]) async throws -> [RESPValue] {
        var bytes: [UInt8] = []
        for command in commands { RESP.appendCommand(command, to: &bytes) }
        connection.send(bytes)
        var replies: [RESPValue] = []
        replies.reserveCapacity(commands.count)
        for _ in commands { replies.append(try await reply()) }
        return replies
    }

    /// Sends `command` without waiting (pub/sub: SUBSCRIBE's confirmations and messages are read with
    /// ``reply()``).
    func send(_ arguments: [[UInt8]]) {
        connection.send(RESP.command(arguments))
    }

    /// The next reply or pushed message.
    func reply() async throws -> RESPValue {
        try await connection.read { bytes in
            guard let (value, consumed) = try RESP.decode(bytes) else { return (nil, 0) }
            return (value, consumed)
        }
    }

    /// Closes the connection.
    func close() { connection.close() }

    /// Closes the connection from any task (ends a subscription being read).
    var closer: @Sendable () -> Void { connection.closer }
}

extension RESPValue {
    /// Throws for an error reply; the value otherwise.
    func checked(_ what: String) throws -> RESPValue {
        if case .error(let message) = self { throw PeerError("redis \(what): \(message)") }
        return self
    }
}
