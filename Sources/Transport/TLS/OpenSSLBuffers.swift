/// Byte-buffer plumbing shared by the TLS engine and the crypto functions.
enum OpenSSLBuffers {
    /// Runs `body` over `bytes` as one contiguous buffer, copying only when the collection is not
    /// already contiguous.
    static func withContiguousBytes<R, E: Error>(
        of bytes: some Collection<UInt8>, _ body: (UnsafeRawBufferPointer) throws(E) -> R
    ) throws(E) -> R {
        let result: Result<R, E>? = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(E) -> R in try body(UnsafeRawBufferPointer(buffer)) }
        }
        if let result { return try result.get() }
        let copy = Array(bytes)
        let copied: Result<R, E> = copy.withUnsafeBytes { buffer in
            Result { () throws(E) -> R in try body(buffer) }
        }
        return try copied.get()
    }
}
