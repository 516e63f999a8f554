import StreamCore

/// Size limits of coordd's WebSocket framing, in one place.
public struct WebSocketLimits: Sendable, Hashable {
    /// Largest frame payload accepted: 8 MiB, streamkit's `defaultMaxFramePayloadBytes` (8 << 20,
    /// streamkit v1 §3.4, ``WireLimits/maxFramePayloadBytes``). A larger frame is refused with 1009
    /// from its header, before any of its payload is buffered. The mux never sends a frame over it
    /// (``MuxLimits/maxOutboundPayloadBytes(frameBytes:)``).
    public var maxFramePayloadBytes: Int
    /// Largest control frame (close, ping, pong) payload: 125 bytes, fixed by RFC 6455 §5.5.
    public static let maxControlPayloadBytes = 125
    /// Payload capacity reserved when a frame starts; a larger payload grows geometrically as its
    /// bytes arrive, so a peer that announces 8 MiB and stalls holds only this much (coordd's choice:
    /// most mux frames are well under 64 KiB).
    public var initialPayloadReserveBytes: Int

    /// Creates limits; every parameter defaults to coordd's production value.
    public init(maxFramePayloadBytes: Int = WireLimits.maxFramePayloadBytes, initialPayloadReserveBytes: Int = 64 * 1024) {
        self.maxFramePayloadBytes = maxFramePayloadBytes
        self.initialPayloadReserveBytes = initialPayloadReserveBytes
    }

    /// coordd's production limits.
    public static let standard = WebSocketLimits()
}
