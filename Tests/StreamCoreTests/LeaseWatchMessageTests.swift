import StreamCore
import Testing

@Test func leaseWatchEventsHaveTheDocumentedShape() throws {
    let held = LeaseWatchEvent(key: "partition-7", held: true, cause: .granted, holder: "b", fence: 8,
                               expiresAt: 1_767_225_612_000, ttlMs: 30_000)
    let text = #"{"key":"partition-7","state":"held","cause":"granted","holder":"b","fence":8,"expires_at":1767225612000,"ttl_ms":30000}"#
    #expect(String(decoding: held.encoded(), as: UTF8.self) == text)
    #expect(try LeaseWatchEvent(fields: JSONFields(JSONValue.parse(Array(text.utf8)))) == held)
    let free = LeaseWatchEvent(key: "k", held: false, cause: .expired, fence: 8)
    #expect(String(decoding: free.encoded(), as: UTF8.self) == #"{"key":"k","state":"free","cause":"expired","fence":8}"#)
}

@Test(arguments: [
    #"{"key":"k","state":"taken","cause":"current"}"#, #"{"key":"k","state":"free","cause":"stolen"}"#,
    #"{"key":"k","state":"free","cause":"current","fence":"x"}"#,
])
func malformedLeaseWatchEventsAreRefused(_ text: String) throws {
    let fields = try JSONFields(JSONValue.parse(Array(text.utf8)))
    #expect(throws: StreamsError.self) { try LeaseWatchEvent(fields: fields) }
}
