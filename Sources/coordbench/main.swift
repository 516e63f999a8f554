// coordbench: measures coordd (and, in the same run, the peers it is compared with) and prints
// throughput and latency percentiles. Benchmarks are never part of `swift test`.
import Foundation

let usage = """
    usage: coordbench WORKLOAD [options]

    workloads:
      store-produce   durable produce into the file store in-process (fsync on)
                      --producers N (8) --records N per producer (50000) --batch N (100) --payload BYTES (100)
      store-reopen    reopen a store written by store-produce and time the index rebuild
                      --dir DIR (required: a directory written by store-produce --keep)
    options:
      --dir DIR       where to put the store (default: a new temporary directory, removed afterwards)
      --keep          keep the store directory
      --json          print JSON instead of a table
    """

var arguments = Array(CommandLine.arguments.dropFirst())
guard let workload = arguments.first, !workload.hasPrefix("-") else {
    print(usage)
    exit(2)
}
arguments.removeFirst()
let options = Options(arguments)
let json = options.flag("json")
do {
    let result: Result
    switch workload {
    case "store-produce":
        let directory = options.value("dir") ?? NSTemporaryDirectory() + "coordbench-\(UUID().uuidString)"
        result = try await StoreWorkloads.produce(
            directory: directory, producers: options.int("producers") ?? 8, perProducer: options.int("records") ?? 50_000,
            batch: options.int("batch") ?? 100, payloadBytes: options.int("payload") ?? 100)
        if !options.flag("keep") { try? FileManager.default.removeItem(atPath: directory) }
    case "store-reopen":
        guard let directory = options.value("dir") else {
            print(usage)
            exit(2)
        }
        result = try StoreWorkloads.reopen(directory: directory)
    default:
        print(usage)
        exit(2)
    }
    print(json ? Report.json([result]) : Report.table([result]))
} catch {
    FileHandle.standardError.write(Data("coordbench: \(error)\n".utf8))
    exit(1)
}
