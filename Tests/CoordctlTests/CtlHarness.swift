import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Synchronization
import Transport

@testable import coordctl

/// Captures what coordctl writes.
final class CapturedOutput: CtlOutput {
    private let streams = Mutex<(out: String, err: String)>(("", ""))

    func write(_ text: String) { streams.withLock { $0.out += text } }
    func writeError(_ text: String) { streams.withLock { $0.err += text } }

    var out: String { streams.withLock { $0.out } }
    var err: String { streams.withLock { $0.err } }
}

/// Lines handed out one by one as standard input.
final class ScriptedInput: Sendable {
    private let lines: Mutex<[String]>

    init(_ lines: [String]) { self.lines = Mutex(lines) }

    func next() -> String? { lines.withLock { $0.isEmpty ? nil : $0.removeFirst() } }
}

/// What one coordctl run produced.
struct CtlResult {
    var status: Int32
    var out: String
    var err: String

    var outLines: [String] { out.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) }
}

/// A daemon core (a node manager over real-clock stores of one kind) that coordctl reaches over the
/// in-process transport, exactly as it reaches a daemon over WebSocket.
struct CtlHarness: Sendable {
    let manager: NodeManager
    let fixture: StoreFixture

    init(_ kind: StoreKind) throws {
        let fixture = try StoreFixture(kind)
        self.fixture = fixture
        manager = NodeManager { id throws(StreamsError) in
            do {
                return try await fixture.open(name: id.description, clock: SystemWallClock())
            } catch {
                throw .storeUnavailable
            }
        }
    }

    /// A client of the default store, for setting up and checking what commands did.
    var client: CoordClient { CoordClient(provider: manager.inProcessProvider(), store: .defaultStore) }

    /// Runs coordctl with `arguments` and `stdin` lines; `output` lets a caller watch a long run.
    func run(_ arguments: [String], stdin: [String] = [], environment: [String: String] = [:],
             output: CapturedOutput = CapturedOutput()) async -> CtlResult {
        let input = ScriptedInput(stdin)
        let manager = self.manager
        let status = await Coordctl.run(
            arguments: arguments, environment: environment, output: output, readLine: { input.next() },
            connect: { _ throws(StreamsError) in (manager.inProcessProvider(), {}) })
        return CtlResult(status: status, out: output.out, err: output.err)
    }

    func shutdown() async {
        await manager.close()
        fixture.remove()
    }
}

extension CtlHarness {
    /// Runs `body` with a fresh harness and shuts it down (removing its files) however `body` ends.
    static func with(_ kind: StoreKind, _ body: (CtlHarness) async throws -> Void) async throws {
        let harness = try CtlHarness(kind)
        do {
            try await body(harness)
        } catch {
            await harness.shutdown()
            throw error
        }
        await harness.shutdown()
    }
}
