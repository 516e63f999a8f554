import Foundation
import StreamCore

/// Debian's Chromium, headless, driven over the DevTools protocol on its browser WebSocket (a
/// ``RawWebSocket`` on 127.0.0.1): for tests of the pages the daemon serves.
///
/// One page target is attached in flattened mode, so every command goes over the one connection with
/// the page's session id. Every wait is bounded; ``close()`` ends the browser by the DevTools command
/// and then, if it is still running, by its own process id.
public final class HeadlessChromium: @unchecked Sendable {
    // Why `@unchecked Sendable` is sound: a test drives one browser from one task at a time;
    // `nextID` and the socket's parser are touched only by that task.

    /// A failed DevTools call or a browser that would not start.
    public struct Failure: Error, CustomStringConvertible {
        /// What went wrong.
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// The Chromium executable on `PATH`, or nil when none is installed.
    public static let executable: String? = {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            for directory in directories where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
                return "\(directory)/\(name)"
            }
        }
        return nil
    }()

    private let process: Process
    private let profile: TemporaryDirectory
    private let socket: RawWebSocket
    private let session: String
    private var nextID = 0

    private init(process: Process, profile: TemporaryDirectory, socket: RawWebSocket, session: String) {
        self.process = process
        self.profile = profile
        self.socket = socket
        self.session = session
    }

    /// Starts the browser with a fresh profile and one blank page of `width` × `height`.
    public static func launch(width: Int = 1280, height: Int = 900) async throws -> HeadlessChromium {
        guard let executable else { throw Failure("chromium is not installed (apt-get install chromium)") }
        let profile = try TemporaryDirectory(prefix: "coordd-chromium")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
            "--user-data-dir=\(profile.path)", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
            "--window-size=\(width),\(height)", "about:blank",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        do {
            // Chromium writes the port it bound, then the browser target's path, into the profile.
            let active = "\(profile.path)/DevToolsActivePort"
            var lines: [Substring] = []
            for _ in 0..<600 where lines.count < 2 {
                lines = ((try? String(contentsOfFile: active, encoding: .utf8)) ?? "").split(separator: "\n")
                if lines.count < 2 { try await Task.sleep(for: .milliseconds(50)) }
            }
            guard lines.count >= 2, let port = Int(lines[0]) else { throw Failure("chromium did not open its DevTools port within 30 s") }
            let socket: RawWebSocket
            switch try await RawWebSocket.open(port: port, path: String(lines[1])) {
            case .upgraded(let upgraded): socket = upgraded
            case .refused(let status, let response): throw Failure("DevTools refused the WebSocket: \(status) \(response)")
            }
            let browser = HeadlessChromium(process: process, profile: profile, socket: socket, session: "")
            let target = try await browser.call("Target.createTarget", #"{"url":"about:blank"}"#)
            guard case .string(let targetID)? = target["targetId"] else { throw Failure("no targetId in \(target)") }
            let attached = try await browser.call("Target.attachToTarget", #"{"targetId":"\#(targetID)","flatten":true}"#)
            guard case .string(let session)? = attached["sessionId"] else { throw Failure("no sessionId in \(attached)") }
            let page = HeadlessChromium(process: process, profile: profile, socket: socket, session: session)
            _ = try await page.call("Page.enable", "{}", inPage: true)
            return page
        } catch {
            stop(process)
            profile.remove()
            throw error
        }
    }

    /// Runs `source` in every document the page loads from now on, before the document's own scripts.
    public func addScriptOnNewDocument(_ source: String) async throws {
        var w = JSONWriter()
        w.beginObject()
        w.key("source"); w.string(source)
        w.endObject()
        _ = try await call("Page.addScriptToEvaluateOnNewDocument", String(decoding: w.bytes, as: UTF8.self), inPage: true)
    }

    /// Loads `url` in the page.
    public func navigate(to url: String) async throws {
        _ = try await call("Page.navigate", #"{"url":"\#(url)"}"#, inPage: true)
    }

    /// Evaluates `expression` in the page and returns its value (strings, numbers, booleans; objects
    /// come back as JSON values).
    public func evaluate(_ expression: String) async throws -> JSONValue {
        var w = JSONWriter()
        w.beginObject()
        w.key("expression"); w.string(expression)
        w.key("returnByValue"); w.bool(true)
        w.key("awaitPromise"); w.bool(true)
        w.endObject()
        let result = try await call("Runtime.evaluate", String(decoding: w.bytes, as: UTF8.self), inPage: true)
        if let exception = result["exceptionDetails"] { throw Failure("the page threw: \(exception)") }
        guard case .object(let value)? = result["result"] else { throw Failure("no result in \(result)") }
        return value["value"] ?? .null
    }

    /// Evaluates `expression` every 100 ms until it is `true`, for up to `seconds`; returns whether it
    /// became true. An expression that throws (the page is still loading) counts as false.
    public func waitUntil(_ expression: String, seconds: Double = 20) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if try await evaluate("try { \(expression) } catch (e) { false }") == .bool(true) { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// A PNG of the page as it is shown now.
    public func screenshot() async throws -> [UInt8] {
        let result = try await call("Page.captureScreenshot", #"{"format":"png"}"#, inPage: true)
        guard case .string(let data)? = result["data"], let png = Base64.decode(data) else { throw Failure("no PNG in the answer") }
        return png
    }

    /// Closes the browser and removes its profile; kills it by its process id if it does not exit within 5 s.
    public func close() async {
        _ = try? await call("Browser.close", "{}", timeoutMs: 2_000)
        let deadline = ContinuousClock.now + .seconds(5)
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        Self.stop(process)
        profile.remove()
    }

    private static func stop(_ process: Process) {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Sends one command and returns its `result`, skipping the events that arrive meanwhile (at most 10,000).
    private func call(_ method: String, _ params: String, inPage: Bool = false, timeoutMs: Int = 20_000) async throws
        -> JSONObject
    {
        nextID += 1
        let id = nextID
        var command = #"{"id":\#(id),"method":"\#(method)","params":\#(params)"#
        if inPage { command += #","sessionId":"\#(session)""# }
        try await socket.sendText(Array((command + "}").utf8))
        for _ in 0..<10_000 {
            guard let frame = try await socket.nextFrame(timeoutMs: timeoutMs) else { throw Failure("DevTools closed during \(method)") }
            guard frame.opcode == .text, case .object(let message) = try JSONValue.parse(frame.payload),
                message["id"] == .int(Int64(id))
            else { continue }
            if let error = message["error"] { throw Failure("\(method) failed: \(error)") }
            guard case .object(let result)? = message["result"] else { return [:] }
            return result
        }
        throw Failure("no answer to \(method) among 10,000 messages")
    }
}
