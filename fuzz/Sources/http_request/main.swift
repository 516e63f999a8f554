import FuzzDriver
import Transport

// The HTTP request head parser over arbitrary bytes, fed in two pieces split where the first byte says,
// as a head arrives across reads.
runFuzzer { input in
    guard let first = input.first else { return }
    let bytes = Array(input.dropFirst())
    let split = Int(first) % (bytes.count + 1)
    var parser = HTTPRequestParser()
    var event = parser.feed(Array(bytes[..<split]))
    if case .needMoreData = event { event = parser.feed(Array(bytes[split...])) }
    if case .head(_, let consumed) = event { precondition(consumed >= 0 && consumed <= bytes.count, "consumed \(consumed)") }
}
