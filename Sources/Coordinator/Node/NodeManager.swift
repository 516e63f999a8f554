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
    private let closed = Atomic<Bool>(false)

    /// Creates a manager that opens stores with `factory`.
    public init(configuration: NodeConfiguration = NodeConfiguration(), factory: @escaping StoreFactory) {
        self.factory = factory
        self.configuration = configuration
    }

    /// The node for `store`, opening it on first use; concurrent first uses share one opening.
    public func node(for store: WireUUID) async throws(StreamsError) -> Node {
        guard !closed.load(ordering: .acquiring) else { throw .shuttingDown }
        let task = slots.withLock { slots -> Task<Node, any Error>? in
            switch slots[store] {
            case .open: return nil
            case .opening(let task): return task
            case nil:
                let factory = self.factory
                let configuration = self.configuration
                let task = Task<Node, any Error> {
                    let opened = try await factory(store)
                    do {
                        return try Node(storeID: store, store: opened, configuration: configuration)
                    } catch {
                        await opened.close()
                        throw error
                    }
                }
                slots[store] = .opening(task)
                return task
            }
        }
        guard let task else {
            if case .open(let node)? = slots.withLock({ $0[store] }) { return node }
            return try await node(for: store)
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
