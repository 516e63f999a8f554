import StreamCore

extension CoordClient {
    /// Creates this client's store (coordd's `store_create`): true when this call created it, false when
    /// it existed already. The token's scopes must cover the store. A daemon that does not create stores
    /// on first use answers every other request for a store it lacks with `store_not_found`.
    @discardableResult
    public func createStore() async throws(StreamsError) -> Bool {
        try await single(StoreCreate(), as: StoreCreateResult.self).created
    }
}
