/// coordd extension: several entries of a read in one message, in the order the read returns them, e.g.
/// `{"entries":[{"sequence":4,…},{"sequence":5,…}]}`. A read sends them when its request asks with
/// `"batched": true` (``ConsumeSegment/batched``, ``ConsumeSpace/batched``, ``Consume/batched``); a server
/// that does not know the member sends every entry bare, as streamkit does. So a client that asks must take
/// both, and an entry too large to go in a batch within one message comes bare too. ``entries(in:)`` reads
/// either.
public struct EntryBatch: WireMessage, Equatable {
    /// The entries, in read order.
    public var entries: [Entry]

    /// Creates a batch.
    public init(entries: [Entry]) {
        self.entries = entries
    }

    /// `entries` must be there, as an array: a message without it is an entry.
    public init(fields: JSONFields) throws(StreamsError) {
        entries = try WireList.elements("entries", of: fields, naming: "an entry batch")
    }

    public func write(to w: inout JSONWriter) {
        WireList.write(entries, as: "entries", to: &w)
    }

    /// The entries of one message of a batched read: a batch's, or the one entry sent bare. An entry never
    /// has an `entries` member, so the two cannot be taken for each other.
    public static func entries(in message: [UInt8]) throws(StreamsError) -> [Entry] {
        if let batch = message.withUnsafeBytes({ canonical($0) }) { return batch.entries }
        if let entry = message.withUnsafeBytes({ Entry.canonical($0) }) { return [entry] }
        let fields = try JSONFields(parsing: message)
        if fields.members["entries"] != nil { return try EntryBatch(fields: fields).entries }
        return [try Entry(fields: fields)]
    }

    /// What goes before a batch's entries, and after them.
    static let opening = Array(#"{"entries":["#.utf8)
    static let closing = Array("]}".utf8)

    /// The bytes a batch of `count` entries whose own JSON is `entryBytes` in all takes as a message: the
    /// entries, the commas between them, and the object around them.
    public static func messageBytes(count: Int, entryBytes: Int) -> Int {
        opening.count + entryBytes + max(count - 1, 0) + closing.count
    }

    /// A batch of entries already encoded (each an `Entry`'s JSON), written around them as they are: what
    /// ``write(to:)`` writes for the same entries, without encoding them again.
    public static func message(joining entries: ArraySlice<[UInt8]>) -> [UInt8] {
        var message: [UInt8] = []
        message.reserveCapacity(messageBytes(count: entries.count, entryBytes: entries.reduce(0) { $0 + $1.count }))
        message += opening
        for (index, entry) in zip(entries.indices, entries) {
            if index > entries.startIndex { message.append(UInt8(ascii: ",")) }
            message += entry
        }
        message += closing
        return message
    }
}
