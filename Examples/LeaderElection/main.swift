// A leader election: campaigns for an office, leads for a while writing with its fence, then resigns.
// Run several at once: one leads at a time, each new leader with a greater fence.
//
//   swift run LeaderElectionExample [URL] [NAME] [LEAD_MS]
import CoordClient

let arguments = CommandLine.arguments
let url = arguments.count > 1 ? arguments[1] : "ws://127.0.0.1:7070"
let name = arguments.count > 2 ? arguments[2] : "candidate-\(WireUUID.random())"
let leadMs = arguments.count > 3 ? Int(arguments[3]) ?? 500 : 500

try await withCoordClient(url: url) { client in
    let election = LeaderElection(client: client, key: "scheduler")
    if let leader = try await election.leader() { print("\(name): \(leader.name) leads (fence \(leader.fence))") }
    try await client.withSession { session in
        try await election.campaign(candidate: name, session: session, timeout: .seconds(60)) { leadership in
            print("\(name): elected, fence \(leadership.fence)")
            try await client.append(space: "scheduler", segment: "decisions", payloads: [Array("\(name) leads".utf8)],
                                    fence: leadership.produceFence)
            try await Task.sleep(for: .milliseconds(leadMs))
        }
    }
    print("\(name): resigned")
}
