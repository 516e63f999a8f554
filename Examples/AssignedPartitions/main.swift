// An assigned-partition worker: it joins a group and coordd gives it a balanced share of the partitions,
// each under a fenced lease bound to its presence. For every partition it owns it writes records with that
// fence; when coordd moves a partition to another member, the partition's work is cancelled first, and a
// write made after the move would be refused by the store. Run several to watch the partitions spread.
//
//   swift run AssignedPartitionsExample [URL] [MEMBER] [PARTITIONS] [SECONDS]
import CoordClient

let arguments = CommandLine.arguments
let url = arguments.count > 1 ? arguments[1] : "ws://127.0.0.1:7070"
let member = arguments.count > 2 ? arguments[2] : "indexer-\(WireUUID.random().description.prefix(8))"
let partitions = arguments.count > 3 ? Int(arguments[3]) ?? 8 : 8
let seconds = arguments.count > 4 ? Int(arguments[4]) ?? 3 : 3

try await withCoordClient(url: url) { client in
    let membership = AssignmentMembership(member: member, partitions: .count(Int64(partitions)), graceMs: 5_000,
                                          revokeAfterMs: 5_000, heartbeatIntervalMs: 1_000)
    let work = Task {
        try await client.withAssignment(group: "indexers", membership: membership) { partition in
            print("\(member) owns partition \(partition.partition): fence \(partition.fence)")
            // Cancelled when the partition is revoked, or when this member stops.
            defer { print("\(member) gave up partition \(partition.partition)") }
            var n = 0
            while !Task.isCancelled {
                n += 1
                try await client.append(space: "index", segment: "p\(partition.partition)",
                                        payloads: [Array("\(member) record \(n)".utf8)], fence: partition.produceFence)
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }
    try await Task.sleep(for: .seconds(seconds))
    work.cancel()
    _ = try? await work.value
    print("\(member) stopped")
}
