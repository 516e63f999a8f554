extension Record {
    /// Decodes a record. The form coordd's and streamkit's encoders write, `{"sequence":N,"payload":"…"}`
    /// or `"payload":null` with nothing else, is read straight from the bytes: a produce decodes one per
    /// record it carries, and building a parsed object and a string for the payload on the way was most of
    /// that. Anything else (spaces, other members, metadata, escapes) goes through the JSON parser, which
    /// gives the same record for what both accept.
    public init(decoding bytes: [UInt8]) throws(StreamsError) {
        if let record = bytes.withUnsafeBytes({ Self.canonical($0) }) {
            self = record
            return
        }
        try self.init(fields: JSONFields(parsing: bytes))
    }

    private static let sequencePrefix = Array(#"{"sequence":"#.utf8)
    private static let payloadKey = Array(#","payload":"#.utf8)
    private static let nullPayloadEnd = Array("null}".utf8)

    /// The record in `input` when it is exactly in the encoders' form; nil to let the parser decide.
    static func canonical(_ input: UnsafeRawBufferPointer) -> Record? {
        var index = 0
        func take(_ literal: [UInt8]) -> Bool {
            guard input.count - index >= literal.count,
                  literal.withUnsafeBytes({ $0.elementsEqual(input[index..<index + literal.count]) })
            else { return false }
            index += literal.count
            return true
        }
        guard take(sequencePrefix) else { return nil }
        // A JSON number as the parser takes it into an unsigned field: no sign, no leading zero, no
        // fraction, and within 64 bits.
        let digitsStart = index
        var sequence: UInt64 = 0
        while index < input.count, input[index] >= 0x30, input[index] <= 0x39 {
            let (times10, overflow1) = sequence.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(input[index] - 0x30))
            guard !overflow1, !overflow2 else { return nil }
            sequence = sum
            index += 1
        }
        let digits = index - digitsStart
        guard digits > 0, digits == 1 || input[digitsStart] != 0x30, take(payloadKey) else { return nil }
        if take(nullPayloadEnd) {
            return index == input.count ? Record(sequence: sequence, payload: nil) : nil
        }
        // A quoted base64 text, then the closing brace and nothing more: base64 has no quote or
        // backslash, so the next quote ends it.
        guard index < input.count, input[index] == 0x22 else { return nil }
        let textStart = index + 1
        guard let quote = input[textStart...].firstIndex(of: 0x22), quote + 2 == input.count, input[quote + 1] == 0x7D,
              let payload = Base64.decodeStandard(UnsafeRawBufferPointer(rebasing: input[textStart..<quote]))
        else { return nil }
        return Record(sequence: sequence, payload: payload)
    }
}
