import StreamCore

/// How one end of a ``BidiStream`` ends: the state machine shared by the WebSocket mux stream and the
/// in-process stream, so both transports end streams the same way by construction.
///
/// Each end has a sending half and a receiving half:
/// - **open**: both halves work;
/// - **half-closed**: this side announced its end (``closeSend(_:)``: the peer reads what was sent, then
///   nil or the error) and its sends fail, or the peer announced its end (``peerEnded(_:gaveUp:bufferEmpty:)``)
///   and the reader gets nil or the peer's error once the buffered messages are read;
/// - **ended** (``isClosed``): both ends were announced, or this side tore its end down (``close(_:)``:
///   buffered messages dropped, receives fail at once), or the peer gave up on the stream (its sends and
///   ours fail), or the transport failed it (``fail(_:immediately:notifyPeer:bufferEmpty:)``).
///
/// Every end is idempotent and the first one wins: a second `closeSend` announces nothing, a second
/// `close` does nothing, a peer's second end is ignored. A pure value: the transport holds it under its
/// lock and carries out the returned ``Effects`` (who is told what) after unlocking.
struct StreamEndState: Sendable {
    /// The receiving half.
    enum Receiving: Sendable, Equatable {
        /// Messages may still arrive.
        case open
        /// The peer finished sending: nil error = clean end, read after the buffered messages.
        case peerFinished(StreamsError?)
        /// This side tore the stream down, or the transport failed it at once: receives fail with this
        /// at once, buffered messages are gone.
        case torn(StreamsError)
    }

    /// What the transport must do after a transition.
    struct Effects: Sendable, Equatable {
        /// Tell the peer this side's end: `.some(nil)` a clean end, `.some(error)` an end with `error`;
        /// nil when there is nothing to tell (already told).
        var announce: StreamsError?? = nil
        /// Drop the buffered inbound messages and fail the peer's sends waiting for room.
        var dropBuffered = false
        /// Answer a parked receive: `.some(nil)` with the clean end (nil), `.some(error)` by throwing
        /// `error`; nil to leave it parked (messages are still buffered, or the receiving half is open).
        var endReceiver: StreamsError?? = nil
        /// The end became closed by this transition: open the closed signal.
        var closedNow = false
        /// The receiving half was still open before this transition: the peer may still send.
        var peerMayStillSend = false
    }

    /// The receiving half's state.
    private(set) var receiving: Receiving = .open
    /// Why sends fail; nil while this side may send.
    private(set) var sendFailure: StreamsError?
    /// This side's end was told to the peer (or the peer is gone and needs no telling).
    private(set) var announced = false
    /// True once the stream has ended for this side.
    private(set) var isClosed = false

    /// The error of a send after this side closed its sending half.
    static let sendAfterClose = StreamsError.streamClosed("send after the stream was closed")
    /// What a receive on a torn-down end fails with.
    static let closedLocally = StreamsError.streamClosed("stream closed")
    /// What sends fail with once the peer gave up on the stream without saying why.
    static let peerClosed = StreamsError.streamClosed("the peer closed the stream")

    /// An open stream.
    init() {}

    /// True while inbound messages are accepted (the receiving half is open).
    var acceptsMessages: Bool { receiving == .open }

    /// Why a message offered to this end's reader is refused, nil while the receiving half is open.
    var deliveryRefusal: StreamsError? {
        switch receiving {
        case .open: nil
        case .torn: Self.closedLocally
        case .peerFinished: Self.sendAfterClose
        }
    }

    /// The error a receive fails with before looking at buffered messages: set once torn down.
    var tornError: StreamsError? {
        if case .torn(let error) = receiving { return error }
        return nil
    }

    /// What a receive finding no buffered message answers: nil to wait, `.success(nil)` at a clean end,
    /// `.failure` at an end with an error.
    var endOfMessages: Result<[UInt8]?, StreamsError>? {
        switch receiving {
        case .open: nil
        case .peerFinished(let error): error.map { .failure($0) } ?? .success(nil)
        case .torn(let error): .failure(error)
        }
    }

    /// This side finished sending (a half-close): the peer is told `error` (nil = clean) once; later
    /// sends fail.
    mutating func closeSend(_ error: StreamsError?) -> Effects {
        var effects = Effects(peerMayStillSend: acceptsMessages)
        guard !announced else { return effects }
        announced = true
        if sendFailure == nil { sendFailure = Self.sendAfterClose }
        effects.announce = .some(error)
        settle(&effects)
        return effects
    }

    /// This side tears the stream down: the peer is told `error` unless it was told an end already,
    /// buffered messages are dropped, a waiting receive and later ones fail, sends fail. Only the first
    /// call does anything.
    mutating func close(_ error: StreamsError?) -> Effects {
        var effects = Effects(peerMayStillSend: acceptsMessages)
        guard tornError == nil else { return effects }
        if !announced {
            announced = true
            effects.announce = .some(error)
        }
        if sendFailure == nil { sendFailure = Self.sendAfterClose }
        receiving = .torn(Self.closedLocally)
        effects.dropBuffered = true
        effects.endReceiver = .some(Self.closedLocally)
        settle(&effects)
        return effects
    }

    /// The peer finished sending, with `error` or cleanly; when it `gaveUp` (tore its end down), this
    /// side's sends fail too (with `error`, or ``peerClosed``) and there is no one left to tell. A
    /// parked receive is answered only when `bufferEmpty`; otherwise the end comes after the messages.
    mutating func peerEnded(_ error: StreamsError?, gaveUp: Bool, bufferEmpty: Bool) -> Effects {
        var effects = Effects(peerMayStillSend: acceptsMessages)
        if gaveUp {
            if sendFailure == nil { sendFailure = error ?? Self.peerClosed }
            announced = true
        }
        if receiving == .open {
            receiving = .peerFinished(error)
            if bufferEmpty { effects.endReceiver = .some(error) }
        }
        settle(&effects)
        return effects
    }

    /// The transport ends the stream (connection lost, shutting down, overloaded, refused): sends fail
    /// with `error`; receives get it after the buffered messages, or at once (`immediately`, dropping
    /// them). The peer is told `error` when `notifyPeer` and it was not told an end yet.
    mutating func fail(_ error: StreamsError, immediately: Bool, notifyPeer: Bool, bufferEmpty: Bool) -> Effects {
        var effects = Effects(peerMayStillSend: acceptsMessages)
        if notifyPeer && !announced { effects.announce = .some(error) }
        announced = true
        if sendFailure == nil { sendFailure = error }
        if immediately {
            if tornError == nil {
                receiving = .torn(error)
                effects.dropBuffered = true
                effects.endReceiver = .some(error)
            }
        } else if receiving == .open {
            receiving = .peerFinished(error)
            if bufferEmpty { effects.endReceiver = .some(error) }
        }
        settle(&effects)
        return effects
    }

    /// Ended once this side's end is announced (or moot) and nothing more will be received.
    private mutating func settle(_ effects: inout Effects) {
        guard !isClosed, announced, receiving != .open else { return }
        isClosed = true
        effects.closedNow = true
    }
}
