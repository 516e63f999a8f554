import FuzzDriver
import StreamCore

// The JSON parser under both its limits, and envelope decoding on top of it. The strict grammar only
// refuses more: what it accepts, the default accepts as the same value. A record read by its in-place
// scanner reads as the parser reads it, and so do a batch of records, an entry and a
// batch of entries.
let strict = JSONLimits.strict(maxDepth: JSONLimits.defaultMaxDepth, maxBytes: JSONLimits.defaultMaxBytes)

runFuzzer { input in
    let bytes = Array(input)
    let lenient = try? JSONValue.parse(bytes)
    if let value = try? JSONValue.parse(bytes, limits: strict) {
        precondition(lenient == value, "strict and default parses differ")
    }
    if lenient != nil { _ = try? Envelope.decode(bytes) }
    let scanned = try? Record(decoding: bytes)
    let parsed = try? Record(fields: JSONFields(parsing: bytes))
    precondition(scanned == parsed, "the record scanner and the parser read a record differently")
    let scannedBatch = try? RecordBatch(decoding: bytes)
    let parsedBatch = try? RecordBatch(fields: JSONFields(parsing: bytes))
    precondition(scannedBatch == parsedBatch, "the batch scanner and the parser read a batch differently")
    let scannedEntry = try? Entry(decoding: bytes)
    let parsedEntry = try? Entry(fields: JSONFields(parsing: bytes))
    precondition(scannedEntry == parsedEntry, "the entry scanner and the parser read an entry differently")
    let scannedEntries = try? EntryBatch(decoding: bytes)
    let parsedEntries = try? EntryBatch(fields: JSONFields(parsing: bytes))
    precondition(scannedEntries == parsedEntries, "the entry batch scanner and the parser read a batch differently")
}
