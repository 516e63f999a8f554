import FuzzDriver
import LeaseEngine

// The lease event decoder over arbitrary bytes: an event that decodes encodes to bytes that decode to it.
runFuzzer { input in
    guard let event = try? LeaseEvent(decoding: input) else { return }
    guard let again = try? LeaseEvent(decoding: event.encoded()), again == event else {
        preconditionFailure("\(event) did not survive encoding")
    }
}
