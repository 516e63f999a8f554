/// The part of reading an HTTP head that requests and responses share: splitting arriving bytes into
/// lines within the head-size budget, and parsing header field lines.
///
/// Only the current line is buffered (with its capacity reused), and never a byte past
/// `HTTPLimits.maxHeaderBytes`, so a peer that sends endless junk costs at most that much memory.
struct HTTPHeadReader: Sendable {
    /// What `readLine` found.
    enum LineStep {
        /// `line` holds a whole line (without its LF).
        case complete
        /// The input ended inside a line; every input byte was taken.
        case incomplete
        /// The head is over `maxHeaderBytes`; the bytes up to the limit were taken into `line`.
        case tooLarge
    }

    let limits: HTTPLimits
    /// The current line so far, without the LF that ends it (a CR before the LF is still present).
    private(set) var line: [UInt8] = []
    /// Bytes of the current head read so far, line endings included.
    private(set) var headBytes = 0
    /// The header fields parsed so far.
    var headers = HTTPHeaders()

    init(limits: HTTPLimits) {
        self.limits = limits
    }

    /// Moves bytes from `input[index...]` into `line`, up to and including the next LF.
    mutating func readLine(from input: UnsafeRawBufferPointer, at index: inout Int) -> LineStep {
        let budget = limits.maxHeaderBytes - headBytes
        let rest = UnsafeRawBufferPointer(rebasing: input[index...])
        if let newline = rest.firstIndex(of: HTTPSyntax.lf), newline < budget {
            line.append(contentsOf: rest[..<newline])
            headBytes += newline + 1
            index += newline + 1
            return .complete
        }
        let taken = min(rest.count, budget)
        line.append(contentsOf: rest[..<taken])
        headBytes += taken
        index += taken
        return taken < rest.count ? .tooLarge : .incomplete
    }

    /// The completed line without its line ending: a CR before the LF is dropped, because bare LF
    /// line endings are tolerated as RFC 9112 §2.2 allows.
    var lineContent: ArraySlice<UInt8> {
        line.last == HTTPSyntax.cr ? line.dropLast() : line[...]
    }

    /// Starts the next line, keeping the buffer's capacity.
    mutating func startNextLine() {
        line.removeAll(keepingCapacity: true)
    }

    /// Forgets the head read so far, ready for the next one.
    mutating func reset() {
        startNextLine()
        headBytes = 0
        headers = HTTPHeaders()
    }

    /// Parses the completed line as a header field (RFC 9112 §5) and stores it.
    mutating func addFieldLine() -> HTTPParseError? {
        guard headers.count < limits.maxHeaderCount else { return .tooManyFields() }
        let content = lineContent
        if let first = content.first, first == HTTPSyntax.space || first == HTTPSyntax.tab {
            // RFC 9112 §5.2 lets a server reject obs-fold; joining lines would hide smuggled fields.
            return .badRequest("obsolete header line folding is not accepted")
        }
        guard let colon = content.firstIndex(of: HTTPSyntax.colon) else {
            return .badRequest("header line without a colon")
        }
        let name = content[..<colon]
        // Whitespace between name and colon is rejected by RFC 9112 §5.1; isToken covers it.
        guard HTTPSyntax.isToken(name) else { return .badRequest("invalid header name") }
        var lower = content.index(after: colon)
        var upper = content.endIndex
        while lower < upper, content[lower] == HTTPSyntax.space || content[lower] == HTTPSyntax.tab { lower += 1 }
        while upper > lower, content[upper - 1] == HTTPSyntax.space || content[upper - 1] == HTTPSyntax.tab {
            upper -= 1
        }
        let value = content[lower..<upper]
        guard value.allSatisfy(HTTPSyntax.isFieldValueByte) else {
            return .badRequest("invalid character in header value")
        }
        headers.appendValidated(
            name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
        return nil
    }
}
