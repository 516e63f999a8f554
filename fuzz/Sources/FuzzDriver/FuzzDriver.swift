import CFuzzDriver

#if canImport(Glibc)
import Glibc
#endif

/// The function under test, called with each input. A C callback cannot capture, so it lives here;
/// set once, before the fuzzing loop starts, and only read after.
nonisolated(unsafe) private var body: (UnsafeRawBufferPointer) -> Void = { _ in }

/// Runs libFuzzer with the process's command line, calling `test` for every input; a crash, a
/// `precondition` failure or an AddressSanitizer report is a finding. Does not return.
public func runFuzzer(_ test: @escaping (UnsafeRawBufferPointer) -> Void) -> Never {
    body = test
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    let status = LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        body(UnsafeRawBufferPointer(start: data, count: size))
        return 0
    }
    exit(status)
}
