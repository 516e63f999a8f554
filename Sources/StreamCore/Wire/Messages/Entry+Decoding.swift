/// A consume carries its entries by the thousand. The form coordd's encoder writes,
/// `{"sequence":N[,"timestamp":T],"trx":{"id":"…","node":"…","number":N},"payload":"…"|null,"space":"…","segment":"…"}`
/// with no metadata, no spaces and names without escapes, is read straight from the bytes; anything else
/// (metadata, other members or order, a negative timestamp) goes through the JSON parser.
extension Entry {
    private static let sequencePrefix = Array(#"{"sequence":"#.utf8)
    private static let timestampKey = Array(#","timestamp":"#.utf8)
    private static let trxIDKey = Array(#","trx":{"id":"#.utf8)
    private static let nodeKey = Array(#","node":"#.utf8)
    private static let numberKey = Array(#","number":"#.utf8)
    private static let payloadKey = Array(#"},"payload":"#.utf8)
    private static let spaceKey = Array(#","space":"#.utf8)
    private static let segmentKey = Array(#","segment":"#.utf8)

    /// The entry in `input` when it is exactly in the encoder's form; nil to let the parser decide.
    public static func canonical(_ input: UnsafeRawBufferPointer) -> Entry? {
        var cursor = JSONCursor(input: input)
        guard let entry = canonical(at: &cursor), cursor.atEnd else { return nil }
        return entry
    }

    /// The entry in the encoder's form at the cursor, which then stands after it; nil (with the cursor
    /// anywhere) for anything else.
    static func canonical(at cursor: inout JSONCursor) -> Entry? {
        guard cursor.take(sequencePrefix), let sequence = cursor.unsignedInteger() else { return nil }
        var timestamp: Int64 = 0
        if cursor.take(timestampKey) {
            guard let value = cursor.nonNegativeInt64() else { return nil }
            timestamp = value
        }
        guard cursor.take(trxIDKey), let id = uuid(&cursor), cursor.take(nodeKey), let node = uuid(&cursor),
              cursor.take(numberKey), let number = cursor.unsignedInteger(), cursor.take(payloadKey)
        else { return nil }
        var payload: [UInt8]?
        if !cursor.takeNull() {
            // Base64 has no quote or backslash, so the next quote ends it.
            guard let text = cursor.stringToNextQuote(),
                  let decoded = Base64.decodeStandard(UnsafeRawBufferPointer(rebasing: cursor.input[text]))
            else { return nil }
            payload = decoded
        }
        guard cursor.take(spaceKey), let space = cursor.plainText(), cursor.take(segmentKey),
              let segment = cursor.plainText(), cursor.take(0x7D)
        else { return nil }
        return Entry(sequence: sequence, timestamp: timestamp, trx: TRX(id: id.isNil ? nil : id, node: node.isNil ? nil : node,
                                                                         number: number),
                     payload: payload, metadata: nil, space: space, segment: segment)
    }

    /// A quoted UUID in its hyphenated text (the nil UUID included, for a caller to map to nil).
    private static func uuid(_ cursor: inout JSONCursor) -> WireUUID? {
        let start = cursor.index
        guard let text = cursor.plainString(), let id = WireUUID(ascii: UnsafeRawBufferPointer(rebasing: cursor.input[text])) else {
            cursor.index = start
            return nil
        }
        return id
    }
}

/// A read that asked for batches carries its entries by the hundred; a batch in the encoder's form
/// (`{"entries":[` entries in their encoder's form separated by commas `]}`) is read straight from the bytes,
/// and any other by the parser, as an entry is.
extension EntryBatch {
    private static let entriesPrefix = Array(#"{"entries":["#.utf8)

    /// The batch in `input` when it and every entry in it are exactly in the encoder's form; nil to let the
    /// parser decide.
    public static func canonical(_ input: UnsafeRawBufferPointer) -> EntryBatch? {
        var cursor = JSONCursor(input: input)
        guard cursor.take(entriesPrefix) else { return nil }
        var entries: [Entry] = []
        if !cursor.take(0x5D) {
            repeat {
                guard let entry = Entry.canonical(at: &cursor) else { return nil }
                entries.append(entry)
            } while cursor.take(0x2C)
            guard cursor.take(0x5D) else { return nil }
        }
        guard cursor.take(0x7D), cursor.atEnd else { return nil }
        return EntryBatch(entries: entries)
    }
}
