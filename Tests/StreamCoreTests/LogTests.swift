import CoordTestKit
import Foundation
import Testing

@testable import StreamCore

/// Shared fixtures of the log tests: scratch directories, opening with replay collected, file surgery.
enum LogTests {
    /// A fresh empty directory under the system temporary directory, removed by `body`'s end.
    static func withScratchDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
        let path = NSTemporaryDirectory() + "coordd-log-test-" + UUID().uuidString.lowercased()
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await body(path)
    }

    /// A replayed record and where it was.
    struct Replayed: Equatable {
        var position: LogPosition
        var record: LogRecord
    }

    /// Opens the log in `directory` and returns it with everything replay handed out, in order.
    static func open(_ directory: String, limits: DurableLogLimits = .init()) throws -> (DurableLog, [Replayed]) {
        var replayed: [Replayed] = []
        let log = try DurableLog.open(directory: directory, limits: limits) { position, kind, payload in
            replayed.append(Replayed(position: position, record: LogRecord(kind: kind, payload: Array(payload))))
        }
        return (log, replayed)
    }

    /// Opens, collects the replayed records, and closes again.
    static func replayAll(_ directory: String, limits: DurableLogLimits = .init()) throws -> [Replayed] {
        let (log, replayed) = try open(directory, limits: limits)
        log.close()
        return replayed
    }

    /// A record whose payload tells which test value it is, `size` bytes long.
    static func record(_ value: Int, size: Int = 24, kind: UInt8 = 1) -> LogRecord {
        var payload = Array("record-\(value)-".utf8)
        while payload.count < size { payload.append(UInt8(truncatingIfNeeded: payload.count &* 7 &+ value)) }
        return LogRecord(kind: kind, payload: Array(payload.prefix(size)))
    }

    /// The path of log file `number` in `directory`.
    static func filePath(_ directory: String, _ number: UInt32) -> String {
        directory + "/" + LogFormat.fileName(number)
    }

    /// The bytes of a file.
    static func contents(_ path: String) throws -> [UInt8] { try FileBytes.contents(path) }

    /// Replaces a file's bytes.
    static func write(_ bytes: [UInt8], to path: String) throws { try FileBytes.write(bytes, to: path) }

    /// Flips every bit of the byte at `offset` in the file at `path`.
    static func flipByte(at offset: Int, in path: String) throws { try FileBytes.flipByte(at: offset, in: path) }

    /// Copies every file of `source` into `destination` (which exists).
    static func copyDirectory(_ source: String, to destination: String) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: source) {
            try FileManager.default.copyItem(atPath: source + "/" + name, toPath: destination + "/" + name)
        }
    }
}
