@testable import Coordinator
import CoordTestKit
import StreamCore
import Synchronization
import Testing
import Transport

/// The answers of a `lease_ops` stream go out in the order of their tickets, whatever order they are
/// settled in and whether the connection takes them at once or a task waits for room.
@Suite(.timeLimit(.minutes(1))) struct LeaseAnswerQueueTests {
    /// How the queue ended its stream, once it did.
    final class Ending: Sendable {
        let outcome = Mutex<StreamsError??>(nil)
        var value: StreamsError?? { outcome.withLock { $0 } }
    }

    private static func queue(_ stream: any BidiStream, limit: Int = 1_024, ending: Ending) -> LeaseAnswerQueue {
        LeaseAnswerQueue(stream: stream, limit: limit, spawn: { body in
            Task { await body() }
            return true
        }, ended: { error in
            ending.outcome.withLock { $0 = .some(error) }
            stream.close(error: error)
        })
    }

    @Test func answersSettledInAnyOrderGoOutInTicketOrderAlsoPastWhatTheStreamTakesAtOnce() async throws {
        // 200 answers where the stream takes 8 at once: the rest wait in a task for room.
        var limits = InProcessLimits()
        limits.bufferedMessages = 8
        let (client, server) = InProcessStream.pair(limits: limits)
        let ending = Ending()
        let answers = Self.queue(server, ending: ending)
        let tickets = (0..<200).map { _ in answers.ticket()! }
        #expect(tickets == Array(0..<200))
        // Odd tickets first (none is due), then the even ones from the end: the first goes when ticket 0 does.
        for ticket in tickets where ticket % 2 == 1 { answers.settle(ticket, .success(Array("\(ticket)".utf8))) }
        for ticket in tickets.reversed() where ticket % 2 == 0 { answers.settle(ticket, .success(Array("\(ticket)".utf8))) }
        answers.finish()
        var received: [String] = []
        for _ in 0..<201 {
            guard let message = try await client.receive() else { break }
            received.append(String(decoding: message, as: UTF8.self))
        }
        #expect(received == (0..<200).map(String.init))
        #expect(ending.value == .some(nil), "ended cleanly once every answer went")
    }

    @Test func aFailureEndsTheStreamAfterTheAnswersBeforeItAndNothingAfter() async throws {
        let (client, server) = InProcessStream.pair()
        let ending = Ending()
        let answers = Self.queue(server, ending: ending)
        let tickets = (0..<3).map { _ in answers.ticket()! }
        answers.settle(tickets[2], .success(Array("late".utf8)))
        answers.settle(tickets[1], .failure(.invalidRequest("no")))
        #expect(ending.value == nil, "the answer before the failure is not settled yet")
        answers.settle(tickets[0], .success(Array("first".utf8)))
        #expect(try await client.receive() == Array("first".utf8))
        let error = await #expect(throws: StreamsError.self) { try await client.receive() }
        #expect(error?.name == "invalid_request")
        #expect(ending.value == .some(.invalidRequest("no")))
        #expect(answers.ticket() == nil, "an ended stream takes no more operations")
    }

    @Test func pastTheLimitTheNextTicketIsRefusedAndEndsTheStreamInItsPlace() async throws {
        let (client, server) = InProcessStream.pair()
        let ending = Ending()
        let answers = Self.queue(server, limit: 2, ending: ending)
        let first = try #require(answers.ticket())
        let second = try #require(answers.ticket())
        #expect(answers.ticket() == nil, "a third outstanding answer is past the limit")
        answers.settle(second, .success(Array("2".utf8)))
        answers.settle(first, .success(Array("1".utf8)))
        #expect(try await client.receive() == Array("1".utf8))
        #expect(try await client.receive() == Array("2".utf8))
        let error = await #expect(throws: StreamsError.self) { try await client.receive() }
        #expect(error?.name == "limit_exceeded")
    }
}
