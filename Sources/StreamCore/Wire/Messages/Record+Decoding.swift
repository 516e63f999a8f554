/// A produce decodes one record per record it carries. The form coordd's and streamkit's encoders write,
/// `{"sequence":N,"payload":"…"}` or `"payload":null` with nothing else, is read straight from the bytes;
/// anything else (spaces, other members, metadata, escapes) goes through the JSON parser.
extension Record: CanonicallyDecodable {
    private static let sequencePrefix = Array(#"{"sequence":"#.utf8)
    private static let payloadKey = Array(#","payload":"#.utf8)

    /// The record in `input` when it is exactly in the encoders' form; nil to let the parser decide.
    public static func canonical(_ input: UnsafeRawBufferPointer) -> Record? {
        var cursor = JSONCursor(input: input)
        guard cursor.take(sequencePrefix), let sequence = cursor.unsignedInteger(), cursor.take(payloadKey) else {
            return nil
        }
        var payload: [UInt8]?
        if !cursor.takeNull() {
            // Base64 has no quote or backslash, so the next quote ends it.
            guard let text = cursor.stringToNextQuote(),
                  let decoded = Base64.decodeStandard(UnsafeRawBufferPointer(rebasing: input[text]))
            else { return nil }
            payload = decoded
        }
        guard cursor.take(0x7D), cursor.atEnd else { return nil }
        return Record(sequence: sequence, payload: payload)
    }
}
