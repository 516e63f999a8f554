import Foundation
import Glibc
import StreamCore

/// Ports for tests that bind the same port twice: a server stops and another must get its port.
public enum FreePort {
    /// A port of 127.0.0.1 that is free now and lies below the system's ephemeral range
    /// (`net.ipv4.ip_local_port_range`). Every other test binds port 0 and every outgoing connection
    /// takes an ephemeral port, so nothing else in the run can take this one between the two binds; a
    /// port the kernel handed out could be, and once was, taken by another test's connection.
    public static func belowEphemeralRange() throws -> Int {
        let firstEphemeral = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8))
            .flatMap { $0.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } } ?? 32_768
        let low = 10_000
        guard firstEphemeral > low + 100 else { throw IOError(errno: EADDRNOTAVAIL, call: "ip_local_port_range") }
        let start = Int.random(in: low..<firstEphemeral)
        for offset in 0..<200 {
            let port = low + (start - low + offset * 97) % (firstEphemeral - low)
            if isFree(port) { return port }
        }
        throw IOError(errno: EADDRINUSE, call: "bind")
    }

    private static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { Glibc.close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
