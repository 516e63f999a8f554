// coordd extension: creating stores explicitly, for daemons that do not create them on first use.

/// coordd extension: creates the store the stream is opened for (the mux frame's `store_id`), so a token
/// must cover that store to create it. Answered with one bare ``StoreCreateResult``, then the end.
/// Creating a store that exists already succeeds with `created: false`.
public struct StoreCreate: RequestMessage, Equatable {
    public static let discriminator = "coordd://api/v1/store_create"

    /// Creates the request.
    public init() {}

    public init(fields: JSONFields) throws(StreamsError) {}

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.endObject()
    }
}

/// The answer to ``StoreCreate`` (bare JSON).
public struct StoreCreateResult: WireMessage, Equatable {
    /// The store.
    public var storeID: WireUUID?
    /// True when this request created it; false when it existed already.
    public var created: Bool

    /// Creates a result.
    public init(storeID: WireUUID?, created: Bool) {
        self.storeID = storeID
        self.created = created
    }

    public init(fields: JSONFields) throws(StreamsError) {
        storeID = try fields.uuid("store_id")
        created = try fields.bool("created")
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("store_id"); w.uuid(storeID)
        w.key("created"); w.bool(created)
        w.endObject()
    }
}
