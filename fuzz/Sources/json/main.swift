import FuzzDriver
import StreamCore

// The JSON parser under both its limits, and envelope decoding on top of it. The strict grammar only
// refuses more: what it accepts, the default accepts as the same value. Every message with a reading of
// its encoder's form straight from the bytes (records, entries and their batches; a renewal, a lease_ops
// operation, a lease answer) reads as the parser reads it.
let strict = JSONLimits.strict(maxDepth: JSONLimits.defaultMaxDepth, maxBytes: JSONLimits.defaultMaxBytes)

/// Traps when `M`'s direct reading and the parser's read `bytes` differently.
func readAlike<M: WireMessage & Equatable>(_ type: M.Type, _ bytes: [UInt8]) {
    let direct = try? M(decoding: bytes)
    let parsed = try? M(fields: JSONFields(parsing: bytes))
    precondition(direct == parsed, "the direct reading and the parser read a \(M.self) differently")
}

runFuzzer { input in
    let bytes = Array(input)
    let lenient = try? JSONValue.parse(bytes)
    if let value = try? JSONValue.parse(bytes, limits: strict) {
        precondition(lenient == value, "strict and default parses differ")
    }
    if lenient != nil { _ = try? Envelope.decode(bytes) }
    readAlike(Record.self, bytes)
    readAlike(RecordBatch.self, bytes)
    readAlike(Entry.self, bytes)
    readAlike(EntryBatch.self, bytes)
    readAlike(LeaseRenew.self, bytes)
    readAlike(LeaseOperation.self, bytes)
    readAlike(LeaseResult.self, bytes)
}
