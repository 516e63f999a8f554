#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Posix {
    /// Starts a detached thread named `name` (at most 15 bytes are kept) that runs `body`, or throws
    /// why the system refused (`EAGAIN` when a thread or memory limit is reached).
    ///
    /// `pthread_create` reports its error as its result rather than in `errno`.
    public static func startDetachedThread(name: String, _ body: @escaping @Sendable () -> Void) throws(IOError) {
        final class Start {
            let name: String
            let body: @Sendable () -> Void
            init(name: String, body: @escaping @Sendable () -> Void) {
                self.name = name
                self.body = body
            }
        }
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        let context = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
        var handle = pthread_t()
        let rc = pthread_create(&handle, &attributes, { context in
            // `context` is the retained `Start` passed to pthread_create below; it is never nil.
            let start = Unmanaged<Start>.fromOpaque(context!).takeRetainedValue()
            nameCurrentThread(start.name)
            start.body()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<Start>.fromOpaque(context).release()
            throw IOError.threadCreate(rc)
        }
    }

    /// Runs `body`, which blocks (file I/O ending in `fsync`), on a thread of its own and waits for it
    /// without holding a thread of the concurrency pool: a slow disk then delays this caller only, not
    /// every task of the process. For rare work (opening a store, looking a host name up, joining event
    /// loop threads); when no thread can be started, `body` runs on the caller's thread instead.
    public static func runBlocking<T: Sendable>(
        name: String, _ body: @escaping @Sendable () throws(StreamsError) -> T
    ) async throws(StreamsError) -> T {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, StreamsError>, Never>) in
            do throws(IOError) {
                try startDetachedThread(name: name) { continuation.resume(returning: Result(catching: body)) }
            } catch {
                continuation.resume(returning: Result(catching: body))
            }
        }
        return try result.get()
    }
}

/// Names the calling thread (what `top -H` and `/proc` show) by writing `/proc/thread-self/comm`, which
/// is what `pthread_setname_np` does and which Glibc's Swift module does not export. At most 15 bytes
/// are kept; a failure leaves the thread unnamed, which costs nothing but the name.
private func nameCurrentThread(_ name: String) {
    let fd = Glibc.open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { return }
    defer { Glibc.close(fd) }
    let bytes = Array(name.utf8.prefix(15))
    _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
}
