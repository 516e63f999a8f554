import CoordTestKit
import StreamCore
import Synchronization
import Testing
@testable import Transport

/// Streams an acceptor serves at once, on the connection's loop, once the read that opened them is handled.
@Suite struct MuxAtOnceTests {
    @Test func aStreamServedAtOnceIsAnsweredWithoutBeingAccepted() async throws {
        let acceptor = AtOnceAcceptor()
        let server = try await MuxTest.server(acceptor)
        let provider = try MuxTest.provider(server)
        for index in 0..<3 {
            let request = MuxTest.message("renew \(index)")
            let stream = try await provider.callStream(store: AtOnceAcceptor.atOnce, request: request)
            stream.closeSend(error: nil)
            #expect(try await MuxTest.receive(stream) == request)
            #expect(try await MuxTest.receive(stream) == nil)
        }
        #expect(acceptor.offered == (0..<3).map { MuxTest.message("renew \($0)") }, "each request, once")
        #expect(acceptor.accepted == 0, "none went through accept")
        await provider.close()
        await server.shutdown(graceMs: 1_000)
    }

    /// Messages handed to a direct handler on the loop, in order, until it stops; the rest queue for a
    /// task's receive; the end reaches the handler, or the task, once.
    @Test func messagesGoToTheDirectHandlerUntilItStopsThenQueue() async throws {
        let acceptor = AtOnceAcceptor()
        let server = try await MuxTest.server(acceptor)
        let provider = try MuxTest.provider(server)
        let stream = try await provider.callStream(store: AtOnceAcceptor.direct, request: MuxTest.message("open"))
        for text in ["a", "b", "task", "c"] { try await stream.send(MuxTest.message(text)) }
        stream.closeSend(error: nil)
        for text in ["a", "b", "c"] { #expect(try await MuxTest.receive(stream) == MuxTest.message(text)) }
        #expect(try await MuxTest.receive(stream) == nil)
        #expect(acceptor.directCalls == [true, true, true], "a, b and task, each on the loop; no end after it stopped")

        let ended = try await provider.callStream(store: AtOnceAcceptor.direct, request: MuxTest.message("open"))
        try await ended.send(MuxTest.message("x"))
        ended.closeSend(error: nil)
        #expect(try await MuxTest.receive(ended) == MuxTest.message("x"))
        #expect(try await MuxTest.receive(ended) == nil, "the handler got the end and closed")
        #expect(acceptor.directCalls.count == 5 && acceptor.directCalls.allSatisfy { $0 })
        await provider.close()
        await server.shutdown(graceMs: 1_000)
    }

    /// The acceptor is offered the request and declines it: the stream is accepted as usual, with the
    /// request still first and the messages that came in the same read after it, in order.
    @Test func aDeclinedStreamKeepsItsRequestFirstAndTheRestInOrder() async throws {
        let acceptor = AtOnceAcceptor()
        let server = try await MuxTest.server(acceptor)
        let raw = try await RawWebSocket.upgraded(port: server.port)
        let channel = WireUUID.random()
        let messages = ["first", "m1", "m2"].map(MuxTest.message)
        try await raw.send(messages.map {
            MuxFrame(controlType: .data, storeID: TestStores.echo, channelID: channel, payload: $0)
        } + [MuxFrame(controlType: .data, storeID: TestStores.echo, channelID: channel, payload: MuxControlMessage.close(nil).encoded())])
        var echoed: [[UInt8]] = []
        for _ in 0..<4 {
            guard let frame = try await raw.nextMuxFrame(), frame.channelID == channel, let payload = frame.payload else { break }
            echoed.append(payload)
        }
        #expect(echoed == messages + [MuxControlMessage.close(nil).encoded()])
        #expect(acceptor.offered == [messages[0]] && acceptor.accepted == 1)
        await server.shutdown(graceMs: 1_000)
    }
}

/// Serves store ``atOnce`` at once, answering each request with itself; serves store ``direct`` by
/// echoing each message on the loop as it arrives (``BidiStream/receiveDirectly(_:)``) until `"task"`, whose
/// stream's rest it echoes in a task; declines every other store, whose streams it then echoes in a task.
final class AtOnceAcceptor: StreamAcceptor {
    static let atOnce = WireUUID(high: 0xA, low: 1)
    static let direct = WireUUID(high: 0xA, low: 2)
    private let handledOnLoop = Mutex<[Bool]>([])

    /// For each message the direct handler got (nil: the end), whether it ran on the loop.
    var directCalls: [Bool] { handledOnLoop.withLock { $0 } }
    private let requests = Mutex<[[UInt8]]>([])
    private let accepts = Atomic<Int>(0)

    /// The requests offered to ``serveAtOnce(store:request:stream:authorization:)``, oldest first.
    var offered: [[UInt8]] { requests.withLock { $0 } }
    /// Streams accepted the usual way.
    var accepted: Int { accepts.load(ordering: .relaxed) }

    func authorize(_ request: HTTPRequestHead, peer: SocketAddress?) -> Result<any ConnectionAuthorization, HTTPResponse> {
        .success(AllStoresAuthorization())
    }

    func respond(to request: HTTPRequestHead) -> HTTPResponse? { nil }

    func serveAtOnce(store: WireUUID, request: [UInt8], stream: any BidiStream,
                     authorization: any ConnectionAuthorization) -> Bool {
        requests.withLock { $0.append(request) }
        if store == Self.direct, let mux = stream as? MuxStream {
            return stream.receiveDirectly { [self] message in
                handledOnLoop.withLock { $0.append(mux.link.loop.inEventLoop) }
                guard let message else {
                    stream.close(error: nil)
                    return false
                }
                if message == MuxTest.message("task") {
                    Task { await TestAcceptor.echo(stream) }
                    return false
                }
                return stream.offer(message)
            }
        }
        guard store == Self.atOnce, stream.offer(request) else { return false }
        stream.close(error: nil)
        return true
    }

    func accept(store: WireUUID, stream: any BidiStream) async throws(StreamsError) {
        accepts.add(1, ordering: .relaxed)
        Task { await TestAcceptor.echo(stream) }
    }
}
