// swift-tools-version:6.0
// libFuzzer targets for coordd's parsers of untrusted bytes. A package of its own, depending on the main
// one by path, so the main build never sees the sanitizer flags. Build and run with `fuzz/run`
// (docs/testing.md): swift build -c release -Xswiftc -sanitize=fuzzer,address
import PackageDescription

/// One executable per parser; its name is the corpus directory under fuzz/corpus/.
let targets = ["http_request", "websocket_frame", "mux_frame", "json", "lease_event", "log_scan"]

let package = Package(
    name: "coordd-fuzz",
    dependencies: [.package(name: "coordd", path: "..")],
    targets: [
        // Declares libFuzzer's LLVMFuzzerRunDriver, so a Swift executable keeps its own `main`.
        .target(name: "CFuzzDriver"),
        .target(name: "FuzzDriver", dependencies: ["CFuzzDriver"]),
    ]
        + targets.map { name in
            .executableTarget(
                name: name, dependencies: ["FuzzDriver", .product(name: "CoorddParsers", package: "coordd")],
                // gold fails to link Swift with the fuzzer runtime (an internal error in its DWARF reader).
                linkerSettings: [.unsafeFlags(["-use-ld=lld"])])
        }
)
