import CLinux
import Glibc
import StreamCore

/// An IPv4 or IPv6 address and port, as bound by a listener or seen on a connection.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// The address family.
    public enum Family: Sendable, Hashable {
        /// `AF_INET`: 4 address bytes.
        case ipv4
        /// `AF_INET6`: 16 address bytes.
        case ipv6
    }

    /// IPv4 or IPv6.
    public let family: Family
    /// The address in network byte order: 4 bytes for IPv4, 16 for IPv6.
    public let addressBytes: [UInt8]
    /// The port, 0...65535 (0 before a listener has bound).
    public let port: Int

    /// Parses `host`, which is an IPv4 literal (`127.0.0.1`), an IPv6 literal with or without brackets
    /// (`::1`, `[::1]`), or `localhost` (meaning `127.0.0.1`).
    ///
    /// Names are not resolved: a DNS lookup blocks, and an event loop must never block.
    public init(host: String, port: Int) throws(IOError) {
        guard (0...65535).contains(port) else { throw .invalidPort(port) }
        var literal = host
        if literal.hasPrefix("["), literal.hasSuffix("]") { literal = String(literal.dropFirst().dropLast()) }
        if literal == "localhost" { literal = "127.0.0.1" }

        var v4 = in_addr()
        if inet_pton(AF_INET, literal, &v4) == 1 {
            self.init(family: .ipv4, addressBytes: withUnsafeBytes(of: &v4) { Array($0) }, port: port)
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, literal, &v6) == 1 {
            self.init(family: .ipv6, addressBytes: withUnsafeBytes(of: &v6) { Array($0) }, port: port)
            return
        }
        throw .unsupportedHost(host)
    }

    init(family: Family, addressBytes: [UInt8], port: Int) {
        self.family = family
        self.addressBytes = addressBytes
        self.port = port
    }

    /// Reads an address the kernel filled in (from `accept4`, `getsockname`, `getpeername`);
    /// nil for families other than IPv4 and IPv6.
    init?(_ storage: sockaddr_storage) {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            let sin = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in.self) }
            var addr = sin.sin_addr
            self.init(
                family: .ipv4, addressBytes: withUnsafeBytes(of: &addr) { Array($0) },
                port: Int(UInt16(bigEndian: sin.sin_port)))
        case AF_INET6:
            let sin6 = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in6.self) }
            var addr = sin6.sin6_addr
            self.init(
                family: .ipv6, addressBytes: withUnsafeBytes(of: &addr) { Array($0) },
                port: Int(UInt16(bigEndian: sin6.sin6_port)))
        default:
            return nil
        }
    }

    /// The address as text: `127.0.0.1`, `::1`.
    public var host: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let af = family == .ipv4 ? AF_INET : AF_INET6
        let ok = addressBytes.withUnsafeBytes { bytes in
            inet_ntop(af, bytes.baseAddress, &text, socklen_t(text.count)) != nil
        }
        // inet_ntop fails only for an unknown family or a short buffer, neither possible here.
        precondition(ok, "inet_ntop failed for a well-formed address")
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `127.0.0.1:8080` or `[::1]:8080`.
    public var description: String {
        family == .ipv4 ? "\(host):\(port)" : "[\(host)]:\(port)"
    }

    /// The `AF_…` constant for `socket(2)`.
    var addressFamily: Int32 { family == .ipv4 ? AF_INET : AF_INET6 }

    /// Calls `body` with this address as a `sockaddr` and its length, for `bind` and `connect`.
    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        func pass<Address>(_ address: inout Address) -> R {
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<Address>.size)) }
            }
        }
        switch family {
        case .ipv4:
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = UInt16(port).bigEndian
            withUnsafeMutableBytes(of: &sin.sin_addr) { $0.copyBytes(from: addressBytes) }
            return pass(&sin)
        case .ipv6:
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = UInt16(port).bigEndian
            withUnsafeMutableBytes(of: &sin6.sin6_addr) { $0.copyBytes(from: addressBytes) }
            return pass(&sin6)
        }
    }
}
