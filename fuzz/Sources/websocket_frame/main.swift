import FuzzDriver
import Transport

// The WebSocket frame parser over arbitrary bytes: the first byte picks the role and the size of the
// pieces the rest arrives in; every frame found is taken until the parser needs more or fails.
runFuzzer { input in
    guard let first = input.first else { return }
    let bytes = Array(input.dropFirst())
    var parser = WebSocketFrameParser(role: first & 1 == 0 ? .server : .client)
    let piece = Int(first >> 1) + 1
    var start = 0
    // Each step takes at least one byte or ends the piece, so this is bounded by the input.
    var steps = 0
    while start < bytes.count {
        let chunk = Array(bytes[start..<min(bytes.count, start + piece)])
        start += chunk.count
        var offset = 0
        pieces: while true {
            steps += 1
            precondition(steps <= 4 * bytes.count + 8, "parser made no progress")
            switch parser.next(in: chunk, at: &offset) {
            case .needMoreData: break pieces
            case .frame: precondition(offset <= chunk.count, "offset \(offset) past \(chunk.count)")
            case .failure: return
            }
        }
    }
}
