import StreamCore

/// Every size, count and time the streamkit mux bounds, in one value, each with where it comes from.
///
/// Both ends use it: the server for every accepted connection, the client provider for its one
/// connection. Tests shrink the values to reach the edges quickly.
public struct MuxLimits: Sendable, Hashable {
    /// streamkit's `defaultMaxMessagePayloadBytes`: 6 MiB of raw payload per mux frame (streamkit v1
    /// §3.4, ``WireLimits/maxMessagePayloadBytes``).
    public static let defaultMaxMessagePayloadBytes = WireLimits.maxMessagePayloadBytes

    /// Largest raw `payload` of one frame received: coordd answers a bigger one on the frame's channel
    /// with an error instead of dropping the connection.
    public var maxMessagePayloadBytes = MuxLimits.defaultMaxMessagePayloadBytes

    /// Largest raw `payload` of one frame sent when frames may be at most `frameBytes`: the smaller of
    /// ``maxMessagePayloadBytes`` and what fits the frame once base64'd inside the frame's JSON
    /// (``WireLimits/largestMessage(frameBytes:messageBytes:)``). With streamkit's 8 MiB frames that is
    /// 6,291,351 bytes: a 6 MiB payload would make a frame the peer refuses, dropping the connection.
    /// A bigger send fails that stream with `muxer payload too large`.
    public func maxOutboundPayloadBytes(frameBytes: Int) -> Int {
        WireLimits.largestMessage(frameBytes: frameBytes, messageBytes: maxMessagePayloadBytes)
    }

    /// Messages a stream's reader may have waiting before the stream counts as behind: streamkit's
    /// per-stream receive queue depth (`defaultMuxQueueChannelDepth`, 8192, streamkit v1 §3.4). The
    /// depth costs no memory until it is used (the queue grows as messages arrive). Past it the
    /// stream must keep taking messages (see ``streamReceiveStallMs``).
    public var streamReceiveQueueMessages = 8_192

    /// Bytes a stream may hold queued, each message counted with 64 bytes of overhead: past it the
    /// stream is overloaded at once. coordd's bound (streamkit counts 8192 + 8192 frames of any size):
    /// five 6 MiB messages, or the backlog of a produce of several hundred thousand small records
    /// that the server is committing.
    public var streamReceiveBufferBytes = 32 << 20

    /// How long a stream may hold more than ``streamReceiveQueueMessages`` while its reader takes
    /// nothing before it is overloaded. streamkit waits 3 × 100 ms with its Close policy and forever
    /// with its default Wait policy; coordd waits long enough for a slow disk flush, and no longer.
    public var streamReceiveStallMs = 10_000

    /// Bytes of payload all the streams of one connection may hold together; past it the stream holding
    /// the most is overloaded, so a connection's memory is bounded however many streams it opens.
    public var connectionReceiveBufferBytes = 128 << 20

    /// Logical streams open at once on one connection; one more is refused with `too many active
    /// streams`. streamkit has no limit (`defaultMaxLogicalStreams` 0); 4,096 is far above what a
    /// client opens in practice while bounding a connection's memory.
    public var maxStreamsPerConnection = 4_096

    /// Tombstoned channels remembered per connection: streamkit's `defaultTombstoneMax`.
    public var tombstoneCapacity = 1_024

    /// How long a tombstone silences late frames: streamkit's `defaultTombstoneMaxAge` (60 s).
    public var tombstoneTTLMs = 60_000

    /// Bytes of outgoing frames handed to the connection's loop and not yet queued on its socket. A
    /// sender waits past this (and while the socket's queue is over its high watermark), so many
    /// streams sending at once cannot grow the queue without bound. coordd's choice: the runtime's
    /// default high watermark.
    public var outboundInFlightBytes = 1 << 20

    /// Messages a stream sends or receives in a row without waiting before it yields its thread to
    /// other tasks. Sends and receives rarely wait (credit is there, messages are queued), so a stream
    /// pushing or draining thousands of messages would otherwise hold one of the few cooperative
    /// threads for the whole run. The in-process transport's 64-slot channels yield as often.
    public var messagesPerYield = 64

    /// The defaults above.
    public init() {}
}

/// The JSON-level keepalive of a mux connection (streamkit v1 §3.4).
public struct MuxKeepalive: Sendable, Hashable {
    /// A `ping` frame is sent this often, less a random jitter: streamkit's `pingInterval` (30 s). The
    /// client uses the same period (streamkit's client pings every second).
    public var pingIntervalMs = 30_000
    /// Upper bound of the random amount taken off each ping interval: streamkit's `pingJitter` (5 s).
    public var pingJitterMs = 5_000
    /// The connection is shut down with `heartbeat timeout` after this long without any inbound frame:
    /// streamkit's `pongTimeout` (90 s).
    public var timeoutMs = 90_000

    /// The defaults above.
    public init() {}

    /// Custom timings (tests use milliseconds).
    public init(pingIntervalMs: Int, pingJitterMs: Int, timeoutMs: Int) {
        self.pingIntervalMs = pingIntervalMs
        self.pingJitterMs = pingJitterMs
        self.timeoutMs = timeoutMs
    }
}
