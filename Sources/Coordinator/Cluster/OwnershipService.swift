/// Keeps the stores this daemon owns on PostgreSQL (``StoreOwnerships/run(onStepDown:)``) for the
/// daemon's whole life. It starts before the stores and stops after them, so every store is still kept
/// while it closes (and releases its ownership) during a drain; a store stepped down is closed through
/// the node manager's stopped-store path.
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
        tasks.spawn { await ownerships.run(onStepDown: { await nodes.closeStoppedStores() }) }
    }

    func stop(deadline: ContinuousClock.Instant) async {
        await tasks.cancelAndWait()
    }
}
