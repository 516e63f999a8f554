// swift-tools-version:6.0
// coordd: a worker-coordination daemon. The package graph stays empty of third-party
// packages: the toolchain, Foundation, Dispatch, and C libraries from the system.
import PackageDescription

let package = Package(
    name: "coordd",
    platforms: [.macOS(.v15)],
    products: [
        // What another package depends on: the Swift client (it re-exports StreamCore's wire types).
        .library(name: "CoordClient", targets: ["CoordClient"]),
        .executable(name: "coordd", targets: ["coordd"]),
        .executable(name: "coordctl", targets: ["coordctl"]),
        // The parsers of untrusted bytes, for the libFuzzer package under fuzz/ (built on its own).
        .library(name: "CoorddParsers", targets: ["StreamCore", "LeaseEngine", "Transport"]),
    ],
    targets: [
        // System libraries (module maps and shim headers only).
        .systemLibrary(name: "CLinux", path: "Sources/CLinux"),
        .systemLibrary(
            name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CPostgreSQL", path: "Sources/CPostgreSQL", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),

        // Small shared data structures (min-heap, ring buffer, latch): standard library only.
        .target(name: "CorePrimitives"),
        // Data model, wire messages, error model and the log engine.
        .target(name: "StreamCore", dependencies: ["CorePrimitives"]),
        // Pure engines: standard library only (and the primitives leaf).
        .target(name: "Inventory", dependencies: ["CorePrimitives"]),
        .target(name: "LeaseEngine", dependencies: ["CorePrimitives"]),
        // Partition assignment for groups of members: the planner and the hand-off state machine.
        .target(name: "Assignment"),
        // A store owner's safe deadline and renewal schedule (the cluster's fenced ownership): pure.
        .target(name: "Ownership"),
        // I/O runtime shared by daemon and client.
        .target(name: "Transport", dependencies: ["CorePrimitives", "StreamCore", "CLinux", "COpenSSL"]),
        // PostgreSQL through libpq: connection threads, a bounded pool, the schema and the store's SQL.
        .target(name: "PostgresKit", dependencies: ["CorePrimitives", "StreamCore", "CPostgreSQL"]),
        // The daemon's core: nodes, shells around the engines, dispatch.
        .target(
            name: "Coordinator",
            dependencies: [
                "CorePrimitives", "StreamCore", "Inventory", "LeaseEngine", "Assignment", "Ownership", "Transport", "PostgresKit",
            ]),
        // The Swift client SDK.
        .target(name: "CoordClient", dependencies: ["StreamCore", "Transport"]),

        // The daemon: flags and environment → configuration, services, run until SIGTERM/SIGINT.
        .executableTarget(name: "coordd", dependencies: ["Coordinator"]),
        // The command-line tool: workers, leases, produce and consume against a running daemon.
        .executableTarget(name: "coordctl", dependencies: ["CoordClient"]),
        // Load generator and side-by-side measurements; never part of `swift test`. Its pure pieces
        // (RESP and HTTP client codecs, percentiles, report tables) live in a library so they are tested.
        .target(name: "CoordBenchKit", dependencies: ["StreamCore", "Transport"]),
        // Coordinator for the in-process workloads that measure a store node itself (lease-churn).
        .executableTarget(
            name: "coordbench",
            dependencies: ["CoordBenchKit", "CoordClient", "Coordinator", "PostgresKit", "StreamCore", "Transport"]),

        // Small programs built on CoordClient, as docs/sdk.md shows them; the CoorddTests run each against a
        // real daemon.
        .executableTarget(name: "WorkerExample", dependencies: ["CoordClient"], path: "Examples/Worker"),
        .executableTarget(name: "ObserverExample", dependencies: ["CoordClient"], path: "Examples/Observer"),
        .executableTarget(name: "PartitionServiceExample", dependencies: ["CoordClient"], path: "Examples/PartitionService"),
        .executableTarget(name: "LeaderElectionExample", dependencies: ["CoordClient"], path: "Examples/LeaderElection"),
        .executableTarget(name: "AssignedPartitionsExample", dependencies: ["CoordClient"], path: "Examples/AssignedPartitions"),

        // Test support: manual clock, temp directories, fixtures.
        .target(
            name: "CoordTestKit", dependencies: ["CorePrimitives", "StreamCore", "Transport", "PostgresKit", "CLinux"],
            path: "Tests/CoordTestKit"),
        // Against a real PostgreSQL (the test kit's, or COORDD_TEST_POSTGRES_URL).
        .testTarget(name: "PostgresKitTests", dependencies: ["PostgresKit", "StreamCore", "CoordTestKit"]),
        .testTarget(name: "StreamCoreTests", dependencies: ["StreamCore", "PostgresKit", "CoordTestKit", "LogCrashChild"]),
        // Child process the log crash test kills with SIGKILL mid-append.
        .executableTarget(name: "LogCrashChild", dependencies: ["StreamCore"], path: "Tests/LogCrashChild"),
        .testTarget(name: "CorePrimitivesTests", dependencies: ["CorePrimitives"]),
        .testTarget(name: "InventoryTests", dependencies: ["Inventory", "CoordTestKit"]),
        .testTarget(name: "LeaseEngineTests", dependencies: ["LeaseEngine", "CoordTestKit"]),
        // The churn simulation carries the engine's actions out on a real LeaseEngine.
        .testTarget(name: "AssignmentTests", dependencies: ["Assignment", "LeaseEngine", "CoordTestKit"]),
        .testTarget(name: "OwnershipTests", dependencies: ["Ownership", "CoordTestKit"]),
        .testTarget(name: "TransportTests", dependencies: ["Transport", "CoordTestKit"]),
        .testTarget(
            name: "CoordinatorTests",
            dependencies: [
                "Coordinator", "CoordClient", "Transport", "StreamCore", "Inventory", "LeaseEngine", "Assignment", "CoordTestKit",
                "CoordBenchKit",
            ]),
        // Starts the real coordd and coordctl binaries, which it depends on so both are built for it.
        .testTarget(
            name: "CoorddTests",
            dependencies: [
                "coordd", "coordctl", "coordbench", "CoordClient", "Transport", "StreamCore", "CoordTestKit", "PostgresKit", "WorkerExample",
                "ObserverExample", "PartitionServiceExample", "LeaderElectionExample", "AssignedPartitionsExample",
            ]),
        // A seeded simulation of a node on the memory store and manual clocks, invariants after every step.
        .testTarget(
            name: "SimulationTests", dependencies: ["Coordinator", "StreamCore", "Transport", "Inventory", "CoordTestKit"]),
        .testTarget(
            name: "CoordctlTests",
            dependencies: ["coordctl", "Coordinator", "CoordClient", "Transport", "StreamCore", "CoordTestKit"]),
    ]
)
