// A worker: registers its presence with metadata and keeps it while it runs. Observers see it join, and
// leave when it stops.
//
//   swift run WorkerExample [URL] [SECONDS]      (URL default ws://127.0.0.1:7070; runs until Ctrl-C without SECONDS)
import CoordClient

let arguments = CommandLine.arguments
let url = arguments.count > 1 ? arguments[1] : "ws://127.0.0.1:7070"
let seconds = arguments.count > 2 ? Int(arguments[2]) : nil

try await withCoordClient(url: url) { client in
    let worker = try await client.registerWorker(
        id: .random(), metadata: ["role": "indexer"], heartbeatIntervalMs: 1_000, presenceOnly: true)
    print("registered worker \(worker.workerID)")
    if let seconds {
        try await Task.sleep(for: .seconds(seconds))
        worker.close()
    } else if let ended = await worker.waitUntilEnded() {
        print("registration ended: \(ended.name): \(ended.message)")
    }
    print("deregistered")
}
