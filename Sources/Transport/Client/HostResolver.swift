import Glibc
import StreamCore

/// Turns a URL's host into an address to connect to.
///
/// IP literals and `localhost` need no lookup. Other names go to `getaddrinfo`, which blocks, so it runs
/// on a thread of its own and never on an event loop or a task's cooperative thread.
enum HostResolver {
    /// The first IPv4 or IPv6 address of `host` with `port`.
    static func resolve(host: String, port: Int) async throws(StreamsError) -> SocketAddress {
        if let literal = try? SocketAddress(host: host, port: port) { return literal }
        // A thread of its own: a lookup can block for seconds, and Dispatch's shared queues are as narrow
        // as the concurrency pool.
        return try await Posix.runBlocking(name: "coordd-resolve") { () throws(StreamsError) in
            try lookUp(host: host, port: port).get()
        }
    }

    private static func lookUp(host: String, port: Int) -> Result<SocketAddress, StreamsError> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0 else {
            let reason = String(cString: gai_strerror(rc))
            return .failure(.streamClosed("cannot resolve \(host): \(reason)"))
        }
        defer { freeaddrinfo(list) }
        var entry = list
        while let current = entry {
            if let address = current.pointee.ai_addr, current.pointee.ai_addrlen <= MemoryLayout<sockaddr_storage>.size {
                var storage = sockaddr_storage()
                withUnsafeMutableBytes(of: &storage) { out in
                    out.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(current.pointee.ai_addrlen)))
                }
                if let resolved = SocketAddress(storage) { return .success(resolved) }
            }
            entry = current.pointee.ai_next
        }
        return .failure(.streamClosed("cannot resolve \(host): no IPv4 or IPv6 address"))
    }
}
