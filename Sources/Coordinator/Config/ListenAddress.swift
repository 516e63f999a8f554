import StreamCore
import Transport

/// The `HOST:PORT` a daemon listens on: an IPv4 literal, a bracketed IPv6 literal or `localhost`.
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    /// The host as given, without brackets: `127.0.0.1`, `::1`, `localhost`, `0.0.0.0`.
    public var host: String
    /// The port; 0 asks the kernel for a free one.
    public var port: Int

    /// An address from its parts (not validated; ``parse(_:)`` validates text).
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `127.0.0.1:7070`, `[::1]:7070`, `localhost:0`. Host names other than `localhost` are
    /// refused: resolving them would block, and a listener should name its interface exactly.
    public static func parse(_ text: String) -> Result<ListenAddress, ListenAddressError> {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                return .failure(.init("missing ] after the IPv6 address in \"\(text)\""))
            }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return .failure(.init("expected :PORT after ] in \"\(text)\"")) }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { return .failure(.init("expected HOST:PORT, got \"\(text)\"")) }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") {
                return .failure(.init("write an IPv6 address in brackets, e.g. [::1]:7070 (got \"\(text)\")"))
            }
        }
        guard !host.isEmpty else { return .failure(.init("missing host in \"\(text)\"")) }
        guard !portText.isEmpty, portText.allSatisfy(\.isASCII), portText.allSatisfy(\.isNumber), portText.count <= 5,
              let port = Int(portText), (0...65535).contains(port)
        else {
            return .failure(.init("invalid port \"\(portText)\" (expected 0-65535)"))
        }
        let address = ListenAddress(host: String(host), port: port)
        do {
            _ = try address.socketAddress()
        } catch {
            return .failure(.init("\"\(host)\" is not an IP address (use an IPv4 or IPv6 literal, or localhost)"))
        }
        return .success(address)
    }

    /// The socket address to bind.
    public func socketAddress() throws(IOError) -> SocketAddress {
        try SocketAddress(host: host, port: port)
    }

    /// True when only this machine can connect: 127.0.0.0/8, ::1, or an IPv4-mapped 127.x address.
    public var isLoopback: Bool {
        guard let address = try? socketAddress() else { return false }
        switch address.family {
        case .ipv4:
            return address.addressBytes[0] == 127
        case .ipv6:
            let bytes = address.addressBytes
            if bytes == [UInt8](repeating: 0, count: 15) + [1] { return true }
            let mapped = [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF]
            return Array(bytes[0..<12]) == mapped && bytes[12] == 127
        }
    }

    /// `127.0.0.1:7070`, `[::1]:7070`.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// Why a listen address was refused.
public struct ListenAddressError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public var message: String

    init(_ message: String) { self.message = message }

    public var description: String { message }
}
