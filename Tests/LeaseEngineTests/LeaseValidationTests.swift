import LeaseEngine
import Testing

/// One request and the exact message it must be refused with.
struct ValidationCase: Sendable, CustomTestStringConvertible {
    let key: String
    let holder: String
    let ttl: LeaseTTL
    let message: String

    var testDescription: String { "\(message.isEmpty ? "accepted" : message) [\(ttl)]" }
}

private let longKey = String(repeating: "k", count: 1_025)
private let longHolder = String(repeating: "h", count: 257)

/// streamkit v1 §5.1's order: key, holder, TTL sign, TTL maximum; coordd's byte limits come after them.
private let acquireAndRenewCases: [ValidationCase] = [
    ValidationCase(key: "", holder: "", ttl: .seconds(0), message: "lease key must not be empty"),
    ValidationCase(key: "", holder: "h", ttl: .milliseconds(5), message: "lease key must not be empty"),
    ValidationCase(key: "k", holder: "", ttl: .seconds(0), message: "lease holder must not be empty"),
    ValidationCase(key: "k", holder: "", ttl: .milliseconds(0), message: "lease holder must not be empty"),
    ValidationCase(key: "k", holder: "h", ttl: .seconds(0), message: "ttl_seconds must be positive"),
    ValidationCase(key: "k", holder: "h", ttl: .seconds(-30), message: "ttl_seconds must be positive"),
    ValidationCase(key: "k", holder: "h", ttl: .seconds(Int64.min), message: "ttl_seconds must be positive"),
    ValidationCase(key: "k", holder: "h", ttl: .seconds(86_401), message: "ttl_seconds exceeds maximum of 86400"),
    ValidationCase(key: "k", holder: "h", ttl: .seconds(Int64.max), message: "ttl_seconds exceeds maximum of 86400"),
    ValidationCase(key: "k", holder: "h", ttl: .milliseconds(0), message: "ttl_ms must be positive"),
    ValidationCase(key: "k", holder: "h", ttl: .milliseconds(-1), message: "ttl_ms must be positive"),
    ValidationCase(
        key: "k", holder: "h", ttl: .milliseconds(86_400_001), message: "ttl_ms exceeds maximum of 86400000"),
    ValidationCase(
        key: "k", holder: "h", ttl: .milliseconds(Int64.max), message: "ttl_ms exceeds maximum of 86400000"),
    // A request streamkit would refuse gets streamkit's message even when it also breaks a byte limit.
    ValidationCase(key: longKey, holder: "", ttl: .seconds(1), message: "lease holder must not be empty"),
    ValidationCase(key: longKey, holder: "h", ttl: .seconds(0), message: "ttl_seconds must be positive"),
    ValidationCase(key: longKey, holder: longHolder, ttl: .seconds(1), message: "lease key exceeds maximum of 1024 bytes"),
    ValidationCase(key: "k", holder: longHolder, ttl: .seconds(1), message: "lease holder exceeds maximum of 256 bytes"),
    // Limits count UTF-8 bytes, not characters: 513 two-byte characters are 1,026 bytes.
    ValidationCase(
        key: String(repeating: "é", count: 513), holder: "h", ttl: .seconds(1),
        message: "lease key exceeds maximum of 1024 bytes"),
]

private let acceptedCases: [ValidationCase] = [
    ValidationCase(key: "k", holder: "h", ttl: .seconds(1), message: ""),
    ValidationCase(key: "k", holder: "h", ttl: .seconds(86_400), message: ""),
    ValidationCase(key: "k", holder: "h", ttl: .milliseconds(1), message: ""),
    ValidationCase(key: "k", holder: "h", ttl: .milliseconds(86_400_000), message: ""),
    ValidationCase(key: String(repeating: "é", count: 512), holder: "h", ttl: .seconds(1), message: ""),
    ValidationCase(key: "k", holder: String(repeating: "h", count: 256), ttl: .seconds(1), message: ""),
]

@Test(arguments: acquireAndRenewCases)
func acquireRefusesInvalidInputWithStreamkitMessagesInOrder(_ testCase: ValidationCase) {
    var engine = LeaseEngine()
    let action = engine.acquire(key: testCase.key, holder: testCase.holder, ttl: testCase.ttl, now: 0)
    #expect(action == .reject(LeaseRejection(testCase.message)))
    #expect(engine.leaseCount == 0)
    #expect(engine.highestToken == 0, "a refused request must not consume a fencing token")
}

@Test(arguments: acquireAndRenewCases)
func renewRefusesInvalidInputWithStreamkitMessagesInOrder(_ testCase: ValidationCase) {
    var engine = LeaseEngine()
    let action = engine.renew(key: testCase.key, holder: testCase.holder, ttl: testCase.ttl, now: 0)
    #expect(action == .reject(LeaseRejection(testCase.message)))
}

@Test(arguments: acceptedCases)
func acquireAcceptsValuesAtEveryLimit(_ testCase: ValidationCase) throws {
    var engine = LeaseEngine()
    let grant = try #require(engine.acquire(key: testCase.key, holder: testCase.holder, ttl: testCase.ttl, now: 0).grant)
    #expect(grant.token == 1)
}

@Test(arguments: [
    ValidationCase(key: "", holder: "", ttl: .seconds(0), message: "lease key must not be empty"),
    ValidationCase(key: "k", holder: "", ttl: .seconds(0), message: "lease holder must not be empty"),
    ValidationCase(key: longKey, holder: "h", ttl: .seconds(0), message: "lease key exceeds maximum of 1024 bytes"),
    ValidationCase(key: "k", holder: longHolder, ttl: .seconds(0), message: "lease holder exceeds maximum of 256 bytes"),
])
func releaseValidatesOnlyKeyAndHolder(_ testCase: ValidationCase) {
    var engine = LeaseEngine()
    #expect(engine.release(key: testCase.key, holder: testCase.holder, now: 0) == .reject(LeaseRejection(testCase.message)))
}

@Test func ttlMessagesFollowConfiguredMaximum() {
    var engine = LeaseEngine(limits: LeaseLimits(maxTTLMs: 60_000))
    #expect(engine.acquire(key: "k", holder: "h", ttl: .seconds(61), now: 0).rejection?.message
        == "ttl_seconds exceeds maximum of 60")
    #expect(engine.acquire(key: "k", holder: "h", ttl: .milliseconds(60_001), now: 0).rejection?.message
        == "ttl_ms exceeds maximum of 60000")
    #expect(engine.acquire(key: "k", holder: "h", ttl: .seconds(60), now: 0).grant?.deadline == 60_000)
}

@Test func validationFailuresCarryTheirTextAndNoReason() {
    var engine = LeaseEngine()
    let rejection = engine.acquire(key: "", holder: "h", ttl: .seconds(1), now: 0).rejection
    #expect(rejection?.message == "lease key must not be empty" && rejection?.refusal == nil)
}

@Test func refusalsOfValidRequestsCarryAReasonAndNoText() throws {
    var engine = LeaseEngine()
    _ = engine.acquire(key: "k", holder: "a", ttl: .seconds(10), now: 0)
    let refusals: [(LeaseRejection?, LeaseRefusal)] = [
        (engine.acquire(key: "k", holder: "b", ttl: .seconds(10), now: 1).rejection, .held),
        (engine.renew(key: "k", holder: "b", ttl: .seconds(10), now: 1).rejection, .held),
        (engine.release(key: "k", holder: "b", now: 1).rejection, .held),
        (engine.renew(key: "none", holder: "a", ttl: .seconds(10), now: 1).rejection, .notHeld),
        (engine.release(key: "none", holder: "a", now: 1).rejection, .notHeld),
        (engine.renew(key: "k", holder: "a", ttl: .seconds(10), now: 10_000).rejection, .expired),
        (engine.renew(key: "k", holder: "b", ttl: .seconds(10), now: 10_000).rejection, .notHeld),
    ]
    for (rejection, reason) in refusals {
        let rejection = try #require(rejection)
        #expect(rejection.message.isEmpty && rejection.refusal == reason)
    }
    #expect(LeaseRefusal.allCases.map(\.rawValue) == ["held", "not_held", "expired", "tokens_exhausted", "worker_not_registered"])
}
