import CoordBenchKit
import StreamCore
import Transport

/// A minimal etcd v3 client over the HTTP/JSON gateway of etcd 3.4 (`/v3/…`): one keep-alive
/// connection, one request in flight. Keys and values travel base64-encoded; 64-bit integers arrive as
/// JSON strings.
final class EtcdClient {
    private let http: HTTPConnection
    /// The loop the connection reads on.
    var eventLoop: EventLoop { http.eventLoop }

    private init(http: HTTPConnection) { self.http = http }

    /// Connects to the etcd client URL at `endpoint`.
    static func connect(to endpoint: Endpoint, on loop: EventLoop) async throws -> EtcdClient {
        EtcdClient(http: try await HTTPConnection.connect(to: endpoint, on: loop))
    }

    /// Grants a lease of `ttlSeconds` and returns its ID.
    func grantLease(ttlSeconds: Int) async throws -> Int64 {
        let answer = try await call("/v3/lease/grant", json { $0.key("TTL"); $0.int(Int64(ttlSeconds)) })
        guard let id = answer.int64(at: "ID"), id != 0 else { throw PeerError("etcd lease grant: no ID") }
        return id
    }

    /// Revokes lease `id`, deleting every key attached to it.
    func revokeLease(_ id: Int64) async throws {
        _ = try await call("/v3/lease/revoke", json { $0.key("ID"); $0.string(String(id)) })
    }

    /// Refreshes the leases `ids` through one keep-alive request (one message per lease in its body,
    /// one answer per lease in the streamed response); throws when one had already expired.
    func keepAlive(_ ids: [Int64]) async throws {
        var body: [UInt8] = []
        for id in ids {
            var w = JSONWriter(capacity: 40)
            w.beginObject()
            w.key("ID"); w.string(String(id))
            w.endObject()
            body += w.bytes
        }
        let status = try await http.startStream("/v3/lease/keepalive", body: body)
        var answers = 0
        while let message = try await http.nextMessage() {
            guard status == 200 else { throw PeerError("etcd keepalive: HTTP \(status): \(String(decoding: message, as: UTF8.self))") }
            let value = try Self.parse(message)
            guard let ttl = value.int64(at: "result", "TTL"), ttl > 0 else {
                throw PeerError("etcd keepalive: lease expired (\(String(decoding: message, as: UTF8.self)))")
            }
            answers += 1
        }
        guard answers == ids.count else { throw PeerError("etcd keepalive: \(answers) answers for \(ids.count) leases") }
    }

    /// Puts `key` = `value` only if `key` does not exist (`create_revision == 0`), attached to `lease`;
    /// true when it was put.
    func putIfAbsent(key: [UInt8], value: [UInt8], lease: Int64) async throws -> Bool {
        let body = json { w in
            w.key("compare"); w.beginArray()
            w.beginObject()
            w.key("target"); w.string("CREATE")
            w.key("result"); w.string("EQUAL")
            w.key("key"); w.base64(key)
            w.key("create_revision"); w.string("0")
            w.endObject()
            w.endArray()
            w.key("success"); w.beginArray()
            w.beginObject()
            w.key("request_put"); w.beginObject()
            w.key("key"); w.base64(key)
            w.key("value"); w.base64(value)
            w.key("lease"); w.string(String(lease))
            w.endObject()
            w.endObject()
            w.endArray()
        }
        let answer = try await call("/v3/kv/txn", body)
        return answer.bool(at: "succeeded")
    }

    /// Puts every pair in one transaction (etcd's `--max-txn-ops` default is 128 per transaction);
    /// returns the revision it created.
    @discardableResult
    func put(_ pairs: [(key: [UInt8], value: [UInt8])]) async throws -> Int64 {
        let body = json { w in
            w.key("success"); w.beginArray()
            for pair in pairs {
                w.beginObject()
                w.key("request_put"); w.beginObject()
                w.key("key"); w.base64(pair.key)
                w.key("value"); w.base64(pair.value)
                w.endObject()
                w.endObject()
            }
            w.endArray()
        }
        let answer = try await call("/v3/kv/txn", body)
        return answer.int64(at: "header", "revision") ?? 0
    }

    /// Puts `key` = `value`; returns the revision it created.
    @discardableResult
    func put(key: [UInt8], value: [UInt8]) async throws -> Int64 {
        let answer = try await call("/v3/kv/put", json { w in
            w.key("key"); w.base64(key)
            w.key("value"); w.base64(value)
        })
        return answer.int64(at: "header", "revision") ?? 0
    }

    /// Deletes `key`; returns the revision of the deletion.
    @discardableResult
    func delete(key: [UInt8]) async throws -> Int64 {
        let answer = try await call("/v3/kv/deleterange", json { w in w.key("key"); w.base64(key) })
        return answer.int64(at: "header", "revision") ?? 0
    }

    /// Deletes every key with `prefix`; returns the revision of the deletion.
    @discardableResult
    func deletePrefix(_ prefix: [UInt8]) async throws -> Int64 {
        let answer = try await call("/v3/kv/deleterange", json { w in
            w.key("key"); w.base64(prefix)
            w.key("range_end"); w.base64(Self.prefixEnd(prefix))
        })
        return answer.int64(at: "header", "revision") ?? 0
    }

    /// Discards the history before `revision` (what etcd's auto-compaction would do later).
    func compact(revision: Int64) async throws {
        _ = try await call("/v3/kv/compaction", json { w in
            w.key("revision"); w.string(String(revision))
            w.key("physical"); w.bool(true)
        })
    }

    /// Up to `limit` keys with `prefix` from `startKey` on, with their values: a page of a range read.
    func range(prefix: [UInt8], from startKey: [UInt8]? = nil, limit: Int) async throws -> (kvs: [(key: [UInt8], value: [UInt8])], more: Bool) {
        let answer = try await call("/v3/kv/range", json { w in
            w.key("key"); w.base64(startKey ?? prefix)
            w.key("range_end"); w.base64(Self.prefixEnd(prefix))
            w.key("limit"); w.string(String(limit))
        })
        var kvs: [(key: [UInt8], value: [UInt8])] = []
        if case .array(let items)? = answer.member("kvs") {
            for item in items {
                guard case .string(let key)? = item.member("key"), let keyBytes = Base64.decode(key) else { continue }
                var value: [UInt8] = []
                if case .string(let text)? = item.member("value") { value = Base64.decode(text) ?? [] }
                kvs.append((keyBytes, value))
            }
        }
        return (kvs, answer.bool(at: "more"))
    }

    /// Starts watching every key with `prefix` (this connection then carries only the watch); returns
    /// once etcd confirmed the watch. Read the events with ``nextWatchMessage()``.
    func watch(prefix: [UInt8]) async throws {
        let status = try await http.startStream("/v3/watch", body: json { w in
            w.key("create_request"); w.beginObject()
            w.key("key"); w.base64(prefix)
            w.key("range_end"); w.base64(Self.prefixEnd(prefix))
            w.endObject()
        })
        guard status == 200 else { throw PeerError("etcd watch: HTTP \(status)") }
        guard let created = try await http.nextMessage() else { throw PeerError("etcd watch ended before it was created") }
        guard case .bool(true)? = try Self.parse(created).member("result")?.member("created") else {
            throw PeerError("etcd watch not created: \(String(decoding: created, as: UTF8.self))")
        }
    }

    /// The next message of the watch, raw (the caller scans it; decoding every event of every
    /// watcher would make the client the bottleneck); nil when the watch ended.
    func nextWatchMessage() async throws -> [UInt8]? {
        try await http.nextMessage()
    }

    /// Closes the connection.
    func close() { http.close() }

    /// Closes the connection from any task (ends a watch being read).
    var closer: @Sendable () -> Void { http.closer }

    /// The key after every key with `prefix` (etcd's `range_end` for a prefix).
    static func prefixEnd(_ prefix: [UInt8]) -> [UInt8] {
        var end = prefix
        while let last = end.last {
            if last < 0xFF {
                end[end.count - 1] = last + 1
                return end
            }
            end.removeLast()
        }
        return [0]
    }

    private func json(_ body: (inout JSONWriter) -> Void) -> [UInt8] {
        var w = JSONWriter(capacity: 256)
        w.beginObject()
        body(&w)
        w.endObject()
        return w.bytes
    }

    private func call(_ path: String, _ body: [UInt8]) async throws -> JSONValue {
        let response = try await http.post(path, body: body)
        guard response.status == 200 else {
            throw PeerError("etcd \(path): HTTP \(response.status): \(String(decoding: response.body, as: UTF8.self))")
        }
        return try Self.parse(response.body)
    }

    private static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        do {
            return try JSONValue.parse(bytes)
        } catch {
            throw PeerError("etcd answered bad JSON (\(error)): \(String(decoding: bytes.prefix(200), as: UTF8.self))")
        }
    }
}

extension JSONValue {
    /// The member `name` of an object.
    func member(_ name: String) -> JSONValue? {
        if case .object(let members) = self { members[name] } else { nil }
    }

    /// The integer at a member path; etcd writes 64-bit integers as strings.
    func int64(at path: String...) -> Int64? {
        var value: JSONValue? = self
        for name in path { value = value?.member(name) }
        switch value {
        case .string(let text)?: return Int64(text)
        case .int(let number)?: return number
        default: return nil
        }
    }

    /// The boolean at a member path; false when absent (proto3 JSON omits false).
    func bool(at path: String...) -> Bool {
        var value: JSONValue? = self
        for name in path { value = value?.member(name) }
        if case .bool(true)? = value { return true }
        return false
    }
}
