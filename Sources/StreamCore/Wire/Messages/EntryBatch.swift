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

    /// The JSON around the entries of a batch, `{"entries":[` and `]}`, and the comma between two: what a
    /// batch adds to its entries' own bytes.
    public static let framingBytes = 14
}
