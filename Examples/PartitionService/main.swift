// A partition service: one session holds a lease per partition (one heartbeat keeps them all) and writes
// each partition's records with that lease's fence, so a write made after the partition moved to another
// instance is refused by the store. Losing the session cancels every partition's work at once.
//
//   swift run PartitionServiceExample [URL] [PARTITIONS] [RECORDS]
import CoordClient

let arguments = CommandLine.arguments
let url = arguments.count > 1 ? arguments[1] : "ws://127.0.0.1:7070"
let partitions = arguments.count > 2 ? Int(arguments[2]) ?? 4 : 4
let records = arguments.count > 3 ? Int(arguments[3]) ?? 3 : 3

try await withCoordClient(url: url) { client in
    try await client.withSession(metadata: ["role": "partition-service"]) { session in
        try await withThrowingTaskGroup(of: Void.self) { group in
            for partition in 0..<partitions {
                group.addTask {
                    // Waits (without polling) while another instance holds the partition.
                    try await session.withLease(key: "partition-\(partition)", wait: .seconds(30)) { lease in
                        for n in 1...records {
                            try await client.append(space: "orders", segment: "p\(partition)",
                                                    payloads: [Array("record \(n)".utf8)], fence: lease.produceFence)
                        }
                        print("partition \(partition): fence \(lease.fence), \(records) records written")
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
