import FuzzDriver
import StreamCore
import Transport

// The mux frame codec: the in-place scanner and the general decoder must agree on every input, and a
// frame that decodes must survive the trip through what a connection sends.
runFuzzer { input in
    let text = Array(input)
    let received = MuxFrame.decodeReceived(text)
    let general = MuxFrame.decode(text)
    switch (received, general) {
    case (.success(let fast), .success(let slow)):
        precondition(fast == slow, "scanner and general decoder disagree: \(fast) vs \(slow)")
    case (.failure, .failure):
        return
    default:
        preconditionFailure("scanner and general decoder disagree: \(received) vs \(general)")
    }
    guard case .success(let frame) = received else { return }
    var parser = WebSocketFrameParser(role: .client)
    var offset = 0
    guard case .frame(let sent) = parser.next(in: frame.webSocketFrame(), at: &offset) else {
        preconditionFailure("the codec wrote a WebSocket frame its parser refuses")
    }
    guard case .success(let back) = MuxFrame.decodeReceived(sent.payload), back == frame else {
        preconditionFailure("\(frame) did not survive encoding")
    }
}
