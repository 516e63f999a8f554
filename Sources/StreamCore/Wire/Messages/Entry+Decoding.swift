/// A consume carries its entries by the thousand. The form coordd's encoder writes,
/// `{"sequence":N[,"timestamp":T],"trx":{"id":"…","node":"…","number":N},"payload":"…"|null,"space":"…","segment":"…"}`
/// with no metadata, no spaces and names without escapes, is read straight from the bytes; anything else
/// (metadata, other members or order, a negative timestamp) goes through the JSON parser.
extension Entry {
    private static let sequencePrefix: StaticString = #"{"sequence":"#
    private static let timestampKey: StaticString = #","timestamp":"#
    private static let trxIDKey: StaticString = #","trx":{"id":"#
    private static let nodeKey: StaticString = #","node":"#
    private static let numberKey: StaticString = #","number":"#
    private static let payloadKey: StaticString = #"},"payload":"#
    private static let spaceKey: StaticString = #","space":"#
    private static let segmentKey: StaticString = #","segment":"#

    /// The entry in `input` when it is exactly in the encoder's form; nil to let the parser decide.
    public static func canonical(_ input: UnsafeRawBufferPointer) -> Entry? {
        JSONCursor.whole(input) { canonical(at: &$0) }
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
        guard cursor.take(trxIDKey), let id = cursor.hyphenatedUUID(), cursor.take(nodeKey), let node = cursor.hyphenatedUUID(),
              cursor.take(numberKey), let number = cursor.unsignedInteger(), cursor.take(payloadKey)
        else { return nil }
        var payload: [UInt8]?
        guard cursor.takeBase64OrNull(into: &payload) else { return nil }
        guard cursor.take(spaceKey), let space = cursor.plainText(), cursor.take(segmentKey),
              let segment = cursor.plainText(), cursor.take(0x7D)
        else { return nil }
        return Entry(sequence: sequence, timestamp: timestamp, trx: TRX(id: id.isNil ? nil : id, node: node.isNil ? nil : node,
                                                                         number: number),
                     payload: payload, metadata: nil, space: space, segment: segment)
    }
}

/// A read that asked for batches carries its entries by the hundred; a batch in the encoder's form
/// (`{"entries":[` entries in their encoder's form separated by commas `]}`) is read straight from the bytes,
/// and any other by the parser, as an entry is.
extension EntryBatch {
    /// The batch in `input` when it and every entry in it are exactly in the encoder's form; nil to let the
    /// parser decide.
    public static func canonical(_ input: UnsafeRawBufferPointer) -> EntryBatch? {
        WireList.canonical(input, prefix: opening) { Entry.canonical(at: &$0) }.map { EntryBatch(entries: $0) }
    }
}
