import Assignment
import StreamCore
import Synchronization
import Transport

/// One member's subscribe stream as the service tracks it: its presence, and a one-slot mailbox for its
/// assignment (a message is the whole state, so a newer one replaces an older one not yet sent).
final class AssignmentMember: Sendable {
    /// How the member names itself, which decides what its presence is.
    enum Presence: Sendable, Hashable {
        /// `member_id`: the subscribe stream is the presence, renewed by `{"op":"renew"}` within `ttlMs`.
        case stream(ttlMs: Int64)
        /// `worker_id`: the registered worker's presence.
        case worker(WireUUID)
    }

    let group: String
    let id: MemberID
    let presence: Presence
    /// The lease engine's reference for this presence: every partition lease of the member is bound to it.
    let reference: UInt64
    let stream: any BidiStream
    /// Signalled when the mailbox holds a message or the member must end.
    let wakeup = Wakeup()
    /// Monotonic ms of the last renewal (`member_id` form).
    let renewedAt: Atomic<Int64>

    private struct Mailbox {
        /// The newest assignment not yet taken by the sender.
        var pending: AssignmentUpdate?
        /// The highest revision offered; an older message arriving late is dropped.
        var offered: UInt64 = 0
        /// Why the stream must end (replaced, presence ended), once decided.
        var ending: StreamsError?
    }

    private let mailbox = Mutex(Mailbox())
    /// The member's assignment as last staged by the service (under the service's lock), without revision.
    let staged = Mutex<(revision: UInt64, owned: [AssignedPartition], releasing: [AssignedPartition])?>(nil)

    init(group: String, id: MemberID, presence: Presence, reference: UInt64, stream: any BidiStream, now: Int64) {
        self.group = group
        self.id = id
        self.presence = presence
        self.reference = reference
        self.stream = stream
        renewedAt = Atomic(now)
    }

    /// Offers `update` (made durable): kept unless a newer revision was offered first.
    func offer(_ update: AssignmentUpdate) {
        let accepted = mailbox.withLock { box -> Bool in
            guard update.revision > box.offered else { return false }
            box.offered = update.revision
            box.pending = update
            return true
        }
        if accepted { wakeup.signal() }
    }

    /// The pending assignment, taken out of the slot; throws the reason once the member must end.
    func take() throws(StreamsError) -> AssignmentUpdate? {
        let (update, ending) = mailbox.withLock { box in
            defer { box.pending = nil }
            return (box.pending, box.ending)
        }
        if let ending { throw ending }
        return update
    }

    /// Ends the member's stream with `error` (its sender throws it).
    func end(with error: StreamsError) {
        mailbox.withLock { box in if box.ending == nil { box.ending = error } }
        wakeup.signal()
    }

    /// True for a member whose presence is its own stream.
    var ownsPresence: Bool {
        if case .stream = presence { return true }
        return false
    }
}
