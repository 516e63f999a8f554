import Glibc
import StreamCore
import Testing
@testable import Transport

@Suite struct RuntimeSocketAddressTests {
    @Test(arguments: [
        ("127.0.0.1", 80, SocketAddress.Family.ipv4, "127.0.0.1:80"),
        ("localhost", 0, .ipv4, "127.0.0.1:0"),
        ("0.0.0.0", 65535, .ipv4, "0.0.0.0:65535"),
        ("::1", 443, .ipv6, "[::1]:443"),
        ("[::1]", 443, .ipv6, "[::1]:443"),
        ("::", 8080, .ipv6, "[::]:8080"),
        ("fe80::1:2", 1, .ipv6, "[fe80::1:2]:1"),
    ])
    func parsesLiteralsAndLocalhost(host: String, port: Int, family: SocketAddress.Family, text: String) throws {
        let address = try SocketAddress(host: host, port: port)
        #expect(address.family == family)
        #expect(address.addressBytes.count == (family == .ipv4 ? 4 : 16))
        #expect(address.port == port)
        #expect(address.description == text)
    }

    @Test(arguments: [("example.com", 80), ("1.2.3", 80), ("::1::2", 80), ("127.0.0.1", -1), ("127.0.0.1", 65536), ("", 80)])
    func rejectsNamesAndBadPortsWithEINVAL(host: String, port: Int) {
        #expect(throws: IOError.self) { try SocketAddress(host: host, port: port) }
        #expect(((try? SocketAddress(host: host, port: port)) == nil))
    }

    @Test func errorNamesTheHostAndTheRule() {
        do {
            _ = try SocketAddress(host: "example.com", port: 80)
            Issue.record("a name was accepted")
        } catch {
            #expect(error.errno == EINVAL)
            #expect(error.description.contains("example.com"))
        }
    }
}
