// An observer: prints the worker inventory on connect and after every change (latest wins).
//
//   swift run ObserverExample [URL] [WORKERS]    (with WORKERS: stops once that many workers are registered)
import CoordClient

let arguments = CommandLine.arguments
let url = arguments.count > 1 ? arguments[1] : "ws://127.0.0.1:7070"
let until = arguments.count > 2 ? Int(arguments[2]) : nil

try await withCoordClient(url: url) { client in
    let inventories = try await client.workers(connectionChanges: { change in print("connection: \(change)") })
    defer { inventories.close() }
    for try await inventory in inventories {
        let roles = inventory.workers.map { $0.metadata?["role"] ?? "-" }
        print("revision \(inventory.revision ?? 0): \(inventory.workers.count) workers \(roles)")
        if let until, inventory.workers.count >= until { break }
    }
}
