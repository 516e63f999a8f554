/// The sizes streamkit's WebSocket wire fixes, and the largest application message that fits them.
///
/// Every streamkit client (and coordd's own) refuses a WebSocket frame over 8 MiB and a mux payload
/// over 6 MiB; these two numbers are the contract. A message is base64'd into the frame's JSON, so the
/// frame cap, not the 6 MiB, is what binds: the largest message is derived here once, and the
/// transports (`MuxLimits`, `WebSocketLimits`, `InProcessLimits`) and the store (`StoreLimits`) take
/// their numbers from it, so a message one side accepts always reaches the other.
public enum WireLimits {
    /// Largest WebSocket frame payload: streamkit's `defaultMaxFramePayloadBytes`, 8 MiB (streamkit v1
    /// §3.2, §3.4). A bigger frame makes the receiver drop the whole connection.
    public static let maxFramePayloadBytes = 8 << 20

    /// Largest raw mux payload (one application message): streamkit's `defaultMaxMessagePayloadBytes`,
    /// 6 MiB (streamkit v1 §3.4).
    public static let maxMessagePayloadBytes = 6 << 20

    /// Bytes of a mux frame's JSON besides its payload's base64: the longest frame coordd sends, an
    /// `error` frame naming a store and a channel, with an empty payload. Frames coordd sends never carry
    /// `trace_context` (only streamkit's own clients add it to what they send).
    public static let frameEnvelopeBytes = Array(
        #"{"ControlType":"error","store_id":"00000000-0000-0000-0000-000000000000","#
            + #""channel_id":"00000000-0000-0000-0000-000000000000","payload":""}"#
    ).count

    /// Largest message one frame of `frameBytes` carries when the mux allows `messageBytes`: base64
    /// turns every 3 bytes (or part of 3) into 4, so the frame has room for
    /// ⌊(frame − envelope) / 4⌋ groups of 3 bytes.
    public static func largestMessage(frameBytes: Int, messageBytes: Int) -> Int {
        min(messageBytes, max(0, (frameBytes - frameEnvelopeBytes) / 4 * 3))
    }

    /// Largest application message that reaches a streamkit peer: 6,291,351 bytes, 105 under the 6 MiB
    /// mux limit, because a 6 MiB message base64'd is 8 MiB before the frame's own JSON.
    public static let maxMessageBytes = largestMessage(frameBytes: maxFramePayloadBytes, messageBytes: maxMessagePayloadBytes)
}
