/// A produce decodes one record per record it carries. The form coordd's and streamkit's encoders write,
/// `{"sequence":N,"payload":"…"}` or `"payload":null` with nothing else, is read straight from the bytes;
/// anything else (spaces, other members, metadata, escapes) goes through the JSON parser.
extension Record {
    private static let sequencePrefix: StaticString = #"{"sequence":"#
    private static let payloadKey: StaticString = #","payload":"#

    /// The record in `input` when it is exactly in the encoders' form; nil to let the parser decide.
    public static func canonical(_ input: UnsafeRawBufferPointer) -> Record? {
        JSONCursor.whole(input) { canonical(at: &$0) }
    }

    /// The record in the encoders' form at the cursor, which then stands after it; nil (with the cursor
    /// anywhere) for anything else.
    static func canonical(at cursor: inout JSONCursor) -> Record? {
        guard cursor.take(sequencePrefix), let sequence = cursor.unsignedInteger(), cursor.take(payloadKey) else {
            return nil
        }
        var payload: [UInt8]?
        guard cursor.takeBase64OrNull(into: &payload), cursor.take(0x7D) else { return nil }
        return Record(sequence: sequence, payload: payload)
    }
}

/// A `produce_batches` stream carries its records by the hundred; a batch in the encoders' form
/// (`{"records":[` canonical records separated by commas `]}`) is read straight from the bytes, and any other
/// by the parser, as a record is.
extension RecordBatch {
    private static let recordsPrefix = Array(#"{"records":["#.utf8)

    /// The batch in `input` when it and every record in it are exactly in the encoders' form; nil to let
    /// the parser decide.
    public static func canonical(_ input: UnsafeRawBufferPointer) -> RecordBatch? {
        WireList.canonical(input, prefix: recordsPrefix) { Record.canonical(at: &$0) }.map { RecordBatch(records: $0) }
    }
}
