import Coordinator
import Testing

/// One row of the store-scope rules (streamkit v1 §3.2).
struct ScopeCase: Sendable, CustomTestStringConvertible {
    enum Outcome: Sendable {
        case allStores
        case stores([String])
        case rejected(JWTRejection)
    }

    var scopes: [String]
    var outcome: Outcome

    var testDescription: String { "\(scopes)" }
}

private let storeA = "6f1c1e2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
private let storeB = "00000000-0000-0000-0000-0000000000b2"

@Suite struct JWTStoreScopesTests {
    static let table: [ScopeCase] = [
        ScopeCase(scopes: ["streamkit::*"], outcome: .allStores),
        ScopeCase(scopes: ["streamkit::\(storeA)"], outcome: .stores([storeA])),
        ScopeCase(scopes: ["streamkit::\(storeA.uppercased())"], outcome: .stores([storeA])),
        ScopeCase(scopes: ["read", "streamkit::\(storeA)", "write"], outcome: .stores([storeA])),
        ScopeCase(scopes: ["streamkit::\(storeB)", "streamkit::\(storeA)", "streamkit::\(storeA)"], outcome: .stores([storeB, storeA])),
        ScopeCase(scopes: ["streamkit::\(storeA)", "streamkit::*"], outcome: .allStores),
        // Go's uuid.Parse forms: braces, urn:uuid: prefix, bare hex.
        ScopeCase(scopes: ["streamkit::{\(storeA)}"], outcome: .stores([storeA])),
        ScopeCase(scopes: ["streamkit::URN:UUID:\(storeA)"], outcome: .stores([storeA])),
        ScopeCase(scopes: ["streamkit::\(storeA.filter { $0 != "-" })"], outcome: .stores([storeA])),
        // No streamkit scope at all.
        ScopeCase(scopes: [], outcome: .rejected(.noStoreScope)),
        ScopeCase(scopes: ["read", "admin"], outcome: .rejected(.noStoreScope)),
        ScopeCase(scopes: ["Streamkit::*", "streamkit:*"], outcome: .rejected(.noStoreScope)),
        // A streamkit scope that is not a UUID poisons the token unless `*` came first.
        ScopeCase(scopes: ["streamkit::not-a-uuid"], outcome: .rejected(.invalidStoreScope("streamkit::not-a-uuid"))),
        ScopeCase(scopes: ["streamkit::"], outcome: .rejected(.invalidStoreScope("streamkit::"))),
        ScopeCase(scopes: ["streamkit::*", "streamkit::not-a-uuid"], outcome: .allStores),
        ScopeCase(
            scopes: ["streamkit::not-a-uuid", "streamkit::*"], outcome: .rejected(.invalidStoreScope("streamkit::not-a-uuid"))),
        ScopeCase(
            scopes: ["streamkit::\(storeA)", "streamkit::\(storeA)x"],
            outcome: .rejected(.invalidStoreScope("streamkit::\(storeA)x"))),
        ScopeCase(
            scopes: ["streamkit::6f1c1e2a+3b4d-4e5f-8a9b-0c1d2e3f4a5b"],
            outcome: .rejected(.invalidStoreScope("streamkit::6f1c1e2a+3b4d-4e5f-8a9b-0c1d2e3f4a5b"))),
        ScopeCase(
            scopes: ["streamkit::6f1c1e2a-3b4d-4e5f-8a9b-0c1d2e3f4a5g"],
            outcome: .rejected(.invalidStoreScope("streamkit::6f1c1e2a-3b4d-4e5f-8a9b-0c1d2e3f4a5g"))),
    ]

    @Test(arguments: table)
    func storeScopesFollowStreamkitRules(row: ScopeCase) throws {
        switch row.outcome {
        case .allStores:
            let scopes = try StoreScopes(scopes: row.scopes)
            #expect(scopes.allowsAllStores)
            #expect(scopes.storeIDs.isEmpty)
        case .stores(let expected):
            let scopes = try StoreScopes(scopes: row.scopes)
            #expect(!scopes.allowsAllStores)
            #expect(scopes.storeIDs == expected.sorted())
        case .rejected(let rejection):
            #expect(throws: rejection) { try StoreScopes(scopes: row.scopes) }
        }
    }

    @Test func singleStoreScopeAllowsOnlyThatStore() throws {
        let scopes = try StoreScopes(scopes: ["streamkit::\(storeA)"])
        #expect(scopes.allows(store: storeA))
        #expect(scopes.allows(store: storeA.uppercased()))
        #expect(!scopes.allows(store: storeB))
        #expect(!scopes.allows(store: "not-a-uuid"))
        let bytes: [UInt8] = [0x6f, 0x1c, 0x1e, 0x2a, 0x3b, 0x4d, 0x4e, 0x5f, 0x8a, 0x9b, 0x0c, 0x1d, 0x2e, 0x3f, 0x4a, 0x5b]
        #expect(scopes.allows(storeUUIDBytes: bytes))
        #expect(!scopes.allows(storeUUIDBytes: bytes.reversed()))
        #expect(!scopes.allows(storeUUIDBytes: bytes.prefix(15)))
    }

    @Test func allStoresScopeAllowsAnyStoreButNoNonsense() throws {
        let scopes = try StoreScopes(scopes: ["streamkit::*"])
        #expect(scopes.allows(store: storeA))
        #expect(scopes.allows(store: storeB))
        #expect(!scopes.allows(store: "*"))
        #expect(!scopes.allows(storeUUIDBytes: [1, 2, 3]))
    }
}
