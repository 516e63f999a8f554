/// A message that is one list of messages under one member, `{"records":[…]}` or `{"entries":[…]}`: read,
/// checked and written one way for every such batch.
enum WireList {
    /// The elements of `{"<member>":[…]}` when the whole message is exactly in the encoders' form, each
    /// element read by `element` (which leaves the cursor after it); nil to let the parser decide. `prefix`
    /// is `{"<member>":[`.
    static func canonical<Element>(
        _ input: UnsafeRawBufferPointer, prefix: [UInt8], element: (inout JSONCursor) -> Element?
    ) -> [Element]? {
        var cursor = JSONCursor(input: input)
        guard cursor.take(prefix) else { return nil }
        var elements: [Element] = []
        if !cursor.take(0x5D) {
            repeat {
                guard let next = element(&cursor) else { return nil }
                elements.append(next)
            } while cursor.take(0x2C)
            guard cursor.take(0x5D) else { return nil }
        }
        guard cursor.take(0x7D), cursor.atEnd else { return nil }
        return elements
    }

    /// The elements of `member`, which must be there as an array (empty or not): a message without it is
    /// not this list, and reading it as an empty one would drop what it held without a word.
    static func elements<Element: WireMessage>(_ member: String, of fields: JSONFields, naming list: String)
        throws(StreamsError) -> [Element]
    {
        guard case .array? = fields.members[member] else {
            throw .malformed("\(list) needs \"\(member)\", an array")
        }
        return try fields.array(member).map { value throws(StreamsError) in try Element(fields: JSONFields(value)) }
    }

    /// Writes `{"<member>":[…]}`.
    static func write(_ elements: [some WireMessage], as member: StaticString, to w: inout JSONWriter) {
        w.beginObject()
        w.key(member)
        w.beginArray()
        for element in elements { element.write(to: &w) }
        w.endArray()
        w.endObject()
    }
}
