import CorePrimitives
@testable import StreamCore
import Testing

/// A renewal, a `lease_ops` operation and a lease answer in the encoders' form are read without the JSON parser, and read as the
/// parser reads them; anything else is left to the parser.
struct LeaseMessageDecodingTests {
    static func parsed<M: WireMessage>(_ text: String, as type: M.Type) -> M? {
        guard let value = try? JSONValue.parse(text), let fields = try? JSONFields(value) else { return nil }
        return try? M(fields: fields)
    }

    static let strings = ["", "k", "partition-7", "holder with spaces", "ünïcødé ✓", "a/b:c", String(repeating: "x", count: 300)]

    @Test func everyRenewalTheEncoderWritesIsReadDirectlyAndBackAsItWas() throws {
        var random = SplitMix64(seed: 11)
        let ttls: [Int64] = [0, 1, 30, Int64.max] + (0..<8).map { _ in Int64(random.next() >> 1) }
        for key in Self.strings {
            for holder in Self.strings.prefix(4) {
                for ttlMs in [nil, 1, 1_500, Int64.max] as [Int64?] {
                    for ttlSeconds in ttls {
                        let renewal = LeaseRenew(terms: LeaseTerms(key: key, holder: holder, ttlSeconds: ttlSeconds, ttlMs: ttlMs))
                        let bytes = renewal.encoded()
                        #expect(bytes.withUnsafeBytes { LeaseRenew.canonical($0) } == renewal, "\(String(decoding: bytes, as: UTF8.self))")
                        #expect(try LeaseRenew(decoding: bytes) == renewal)
                    }
                }
            }
        }
    }

    @Test func everyOperationTheEncoderWritesIsReadDirectlyAndBackAsItWas() throws {
        let worker = WireUUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")!
        var operations: [LeaseOperation] = []
        for key in Self.strings {
            for holder in Self.strings.prefix(4) {
                operations.append(.release(LeaseRelease(key: key, holder: holder)))
                for ttlMs in [nil, 1, Int64.max] as [Int64?] {
                    for ttlSeconds: Int64 in [0, 30, Int64.max] {
                        let terms = LeaseTerms(key: key, holder: holder, ttlSeconds: ttlSeconds, ttlMs: ttlMs)
                        operations.append(.renew(LeaseRenew(terms: terms)))
                        operations.append(.acquire(LeaseAcquire(terms: terms)))
                        operations.append(.acquire(LeaseAcquire(terms: terms, workerID: worker)))
                    }
                }
            }
        }
        for operation in operations {
            let bytes = operation.encoded()
            #expect(bytes.withUnsafeBytes { LeaseOperation.canonical($0) } == operation, "\(String(decoding: bytes, as: UTF8.self))")
            #expect(try LeaseOperation(decoding: bytes) == operation)
        }
    }

    @Test func everyAnswerTheEncoderWritesIsReadDirectlyAndBackAsItWas() throws {
        let answers: [LeaseResult] = [
            LeaseResult(ok: true), LeaseResult(ok: false), LeaseResult(ok: false, message: "ttl must be positive"),
            LeaseResult(ok: true, fence: 7, holder: "h", expiresAt: 1_767_225_600_000, ttlMs: 30_000),
            LeaseResult(ok: false, reason: "held", fence: 9, holder: "ünïcødé ✓", expiresAt: 0, ttlMs: 1),
            LeaseResult(ok: false, reason: "not_held"), LeaseResult(ok: true, fence: UInt64(Int64.max)),
            LeaseResult(ok: true, holder: ""), LeaseResult(ok: true, expiresAt: Int64.max),
        ]
        for answer in answers {
            let bytes = answer.encoded()
            #expect(bytes.withUnsafeBytes { LeaseResult.canonical($0) } == answer, "\(String(decoding: bytes, as: UTF8.self))")
            #expect(try LeaseResult(decoding: bytes) == answer)
        }
    }

    @Test(arguments: [
        #"{"key":"k","holder":"h","ttl_seconds":-1}"#,
        #"{"key":"k","holder":"h","ttl_seconds":1.5}"#,
        #"{"key":"k","holder":"h","ttl_seconds":01}"#,
        #"{"key":"k","holder":"h","ttl_seconds":9223372036854775808}"#,
        #"{"key":"k\"","holder":"h","ttl_seconds":1}"#,
        #"{"key":"k\u0041","holder":"h","ttl_seconds":1}"#,
        "{\"key\":\"k\u{01}\",\"holder\":\"h\",\"ttl_seconds\":1}",
        #"{"key":"k","holder":"h","ttl_seconds":1,"ttl_ms":-5}"#,
        #"{"key":"k","holder":"h","ttl_seconds":1,"ttl_ms":null}"#,
        #"{"key":"k","holder":"h","ttl_seconds":1,"extra":2}"#,
        #"{"holder":"h","key":"k","ttl_seconds":1}"#,
        #"{"key":"k","holder":"h","ttl_seconds":1} "#,
        #"{"key": "k","holder":"h","ttl_seconds":1}"#,
        #"{"key":"k","holder":"h"}"#,
        #"{"key":"k","holder":"h","ttl_seconds":1"#,
        #"{"key":"k","holder":"h","ttl_seconds":1,"key":"j"}"#,
    ])
    func anyOtherRenewalIsLeftToTheParser(_ text: String) {
        #expect(Array(text.utf8).withUnsafeBytes { LeaseRenew.canonical($0) } == nil)
        #expect((try? LeaseRenew(decoding: Array(text.utf8))) == Self.parsed(text, as: LeaseRenew.self))
    }

    /// Forms the encoder does not write but the direct reading takes: read as the parser reads them.
    @Test(arguments: [
        #"{"op":"acquire","key":"k","holder":"h","ttl_seconds":1,"worker_id":"00000000-0000-0000-0000-000000000000"}"#,
        #"{"op":"acquire","key":"k","holder":"h","ttl_seconds":1,"worker_id":"6BA7B810-9DAD-11D1-80B4-00C04FD430C8"}"#,
    ])
    func aWorkerIDIsReadAsTheParserReadsIt(_ text: String) {
        let direct = Array(text.utf8).withUnsafeBytes { LeaseOperation.canonical($0) }
        #expect(direct != nil)
        #expect(direct == Self.parsed(text, as: LeaseOperation.self))
    }

    @Test(arguments: [
        #"{"op":"acquire","key":"k","holder":"h","ttl_seconds":1,"worker_id":"6ba7b8109dad11d180b400c04fd430c8"}"#,
        #"{"op":"acquire","key":"k","holder":"h","ttl_seconds":1,"worker_id":"not-a-uuid"}"#,
        #"{"op":"acquire","key":"k","holder":"h","ttl_seconds":1,"worker_id":null}"#,
        #"{"op":"acquire","key":"k","holder":"h","ttl_seconds":1,"ttl_ms":-1}"#,
        #"{"op":"acquire","key":"k","holder":"h"}"#,
        #"{"op":"acquire","key":"k","holder":"h","ttl_seconds":1} "#,
        #"{"op":"renew","key":"k","holder":"h","ttl_seconds":1,"worker_id":"6ba7b810-9dad-11d1-80b4-00c04fd430c8"}"#,
        #"{"op":"renew","key":"k","holder":"h","ttl_seconds":1.5}"#,
        #"{"op":"release","key":"k","holder":"h","ttl_seconds":1}"#,
        #"{"op":"release","key":"k\"","holder":"h"}"#,
        #"{"op":"release","key":"k","holder":"h","holder":"i"}"#,
        #"{"op":"release","holder":"h","key":"k"}"#,
        #"{"op":"release","key":"k"}"#,
        #"{"op":"steal","key":"k","holder":"h"}"#,
        #"{"op":"","key":"k","holder":"h"}"#,
        #"{"key":"k","holder":"h","op":"release"}"#,
        #"{"op": "release","key":"k","holder":"h"}"#,
    ])
    func anyOtherOperationIsLeftToTheParser(_ text: String) {
        #expect(Array(text.utf8).withUnsafeBytes { LeaseOperation.canonical($0) } == nil)
        #expect((try? LeaseOperation(decoding: Array(text.utf8))) == Self.parsed(text, as: LeaseOperation.self))
    }

    @Test(arguments: [
        #"{"ok":1}"#,
        #"{"ok":true,"fence":-1}"#,
        #"{"ok":true,"fence":null}"#,
        #"{"ok":true,"holder":"a\\b"}"#,
        #"{"ok":true,"expires_at":-1767225600000}"#,
        #"{"ok":true,"ttl_ms":30000,"fence":7}"#,
        #"{"ok":true,"other":1}"#,
        #"{"fence":7,"ok":true}"#,
        #"{"ok":true }"#,
        #"{"ok":true"#,
        #"{"ok":false,"message":"bad","message":"worse"}"#,
    ])
    func anyOtherAnswerIsLeftToTheParser(_ text: String) {
        #expect(Array(text.utf8).withUnsafeBytes { LeaseResult.canonical($0) } == nil)
        #expect((try? LeaseResult(decoding: Array(text.utf8))) == Self.parsed(text, as: LeaseResult.self))
    }

    @Test func bytesThatAreNotUTF8AreLeftToTheParser() {
        let text: [UInt8] = Array(#"{"key":""#.utf8) + [0xC3, 0x28] + Array(#"","holder":"h","ttl_seconds":1}"#.utf8)
        #expect(text.withUnsafeBytes { LeaseRenew.canonical($0) } == nil)
    }
}
