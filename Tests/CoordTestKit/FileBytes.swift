import Foundation

/// Reading and altering files byte by byte, for tests that damage logs on purpose.
public enum FileBytes {
    /// The bytes of a file.
    public static func contents(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Replaces a file's bytes.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// Flips every bit of the byte at `offset` in the file at `path`.
    public static func flipByte(at offset: Int, in path: String) throws {
        var bytes = try contents(path)
        bytes[offset] ^= 0xFF
        try write(bytes, to: path)
    }
}
