import StreamCore
import Synchronization
import Transport

/// Creates one ``Node`` per store UUID on first use and routes new streams to it (streamkit v1 §6.9).
public final class NodeManager: Sendable {
    /// Opens the store for a store UUID (a directory of files, or memory).
    public typealias StoreFactory = @Sendable (WireUUID) async throws(StreamsError) -> any StreamStore

    private enum Slot {
        case opening(Task<Node, any Error>)
        case open(Node)
    }

    private let factory: StoreFactory
    private let configuration: NodeConfiguration
    private let slots = Mutex<[WireUUID: Slot]>([:])
    private let circuit: Mutex<StoreOpenCircuit>
    private let closed = Atomic<Bool>(false)

    /// Creates a manager that opens stores with `factory`.
    public convenience init(configuration: NodeConfiguration = NodeConfiguration(), factory: @escaping StoreFactory) {
        self.init(configuration: configuration, circuit: StoreOpenCircuit.Limits(), factory: factory)
    }

    init(configuration: NodeConfiguration, circuit limits: StoreOpenCircuit.Limits, factory: @escaping StoreFactory) {
        self.factory = factory
        self.configuration = configuration
        circuit = Mutex(StoreOpenCircuit(limits: limits))
    }

    private enum Lookup {
        case open(Node)
        case opening(Task<Node, any Error>)
        case refused(retryInMs: Int64)
    }

    /// The node for `store`, opening it on first use; concurrent first uses share one opening.
    ///
    /// After three failed opens in a row the store is refused at once (`store unavailable`) for 30 s, then
    /// one open is tried again (streamkit v1 §6.9).
    public func node(for store: WireUUID) async throws(StreamsError) -> Node {
        guard !closed.load(ordering: .acquiring) else { throw .shuttingDown }
        let nowMs = configuration.monotonicClock.nowMs()
        let lookup = slots.withLock { slots -> Lookup in
            switch slots[store] {
            case .open(let node): return .open(node)
            case .opening(let task): return .opening(task)
            case nil:
                if let retryInMs = circuit.withLock({ $0.refusal(for: store, nowMs: nowMs) }) { return .refused(retryInMs: retryInMs) }
                let task = openingTask(for: store)
                slots[store] = .opening(task)
                return .opening(task)
            }
        }
        let task: Task<Node, any Error>
        switch lookup {
        case .open(let node): return node
        case .refused(let retryInMs):
            throw StreamsError.storeUnavailable.with(
                message: "store unavailable: its last \(circuit.withLock { $0.limits.maxFailures }) opens failed; next attempt in \(retryInMs) ms")
        case .opening(let opening): task = opening
        }
        do {
            let node = try await task.value
            slots.withLock { $0[store] = .open(node) }
            return node
        } catch {
            // A failed open is forgotten so the next stream tries again.
            slots.withLock { slots in
                if case .opening? = slots[store] { slots[store] = nil }
            }
            throw (error as? StreamsError) ?? .storeUnavailable
        }
    }

    /// Opens `store` and its node, recording the outcome (once, however many streams wait for it) in the
    /// circuit.
    private func openingTask(for store: WireUUID) -> Task<Node, any Error> {
        let factory = self.factory
        let configuration = self.configuration
        return Task<Node, any Error> { [self] in
            do {
                let opened = try await factory(store)
                do {
                    let node = try await Node(storeID: store, store: opened, configuration: configuration)
                    circuit.withLock { $0.succeeded(store) }
                    return node
                } catch {
                    await opened.close()
                    throw error
                }
            } catch {
                let nowMs = configuration.monotonicClock.nowMs()
                circuit.withLock { $0.failed(store, nowMs: nowMs) }
                throw error
            }
        }
    }

    /// Routes a new server-side stream to its store's node; the node serves it in its own task.
    public func accept(store: WireUUID, stream: any BidiStream) async throws(StreamsError) {
        let node = try await node(for: store)
        Task { await node.handle(stream) }
    }

    /// An in-process provider whose streams are served by this manager.
    public func inProcessProvider(limits: InProcessLimits = InProcessLimits()) -> InProcessProvider {
        InProcessProvider(limits: limits) { store, stream throws(StreamsError) in
            try await self.accept(store: store, stream: stream)
        }
    }

    /// The nodes open now.
    public var openNodes: [Node] {
        slots.withLock { slots in
            slots.values.compactMap { if case .open(let node) = $0 { return node } else { return nil } }
        }
    }

    /// Closes every node (ending its streams) and its store. Idempotent; later streams are refused.
    public func close() async {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let pending = slots.withLock { slots -> [Slot] in
            defer { slots = [:] }
            return Array(slots.values)
        }
        for slot in pending {
            switch slot {
            case .open(let node): await node.close()
            case .opening(let task): if let node = try? await task.value { await node.close() }
            }
        }
    }
}
