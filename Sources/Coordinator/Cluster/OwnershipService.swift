/// Keeps the stores this daemon owns on PostgreSQL (``StoreOwnerships/run(onStepDown:onHandOff:)``) for the
/// daemon's whole life. It starts before the stores and stops after them, so every store is still kept
/// while it closes (and releases its ownership) during a drain; a store stepped down is closed through
/// the node manager's stopped-store path, and a store placement gives to another daemon is handed off
/// through the node manager (``NodeManager/handOff(_:ending:graceMs:)``).
final class OwnershipService: Service {
    let name = "store ownership"
    private let ownerships: StoreOwnerships
    private let nodes: NodeManager
    private let tasks = OwnedTasks()

    init(ownerships: StoreOwnerships, nodes: NodeManager) {
        self.ownerships = ownerships
        self.nodes = nodes
    }

    func start() async throws(DaemonStartError) {
        let ownerships = ownerships
        let nodes = nodes
        tasks.spawn {
            await ownerships.run(onStepDown: { await nodes.closeStoppedStores() }, onHandOff: { store, peer in
                await nodes.handOff(store, ending: .storeUnavailable(because: "store \(store) moves to \(peer)"),
                                    graceMs: PlacementView.handOffGraceMs)
            })
        }
    }

    func stop(deadline: ContinuousClock.Instant) async {
        await tasks.cancelAndWait()
    }
}
