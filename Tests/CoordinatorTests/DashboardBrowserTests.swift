import CoordClient
import CoordTestKit
import Coordinator
import Foundation
import StreamCore
import Testing
import Transport

/// The dashboard in a real headless Chromium against a real daemon on 127.0.0.1: the page asks for a
/// token when the daemon verifies them, connects over `/streamz` with it in a subprotocol, and shows a
/// worker and a lease registered by another client as they happen, without breaking its own
/// Content-Security-Policy.
///
/// Skipped with a notice where Chromium is missing, except in CI (`COORDD_CI=1`, set by `.ci/run`,
/// which installs it), where a missing browser fails the test.
@Suite(.serialized) struct DashboardBrowserTests {
    static let runs = HeadlessChromium.executable != nil || ProcessInfo.processInfo.environment["COORDD_CI"] == "1"

    /// Records every CSP violation of the page in `window.cspViolations`.
    static let violationRecorder = """
        window.cspViolations = [];
        document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
        """

    struct Scene {
        let daemon: Daemon
        let provider: WebSocketProvider
        let browser: HeadlessChromium
        let scratch: TemporaryDirectory

        var client: CoordClient { CoordClient(provider: provider, store: .defaultStore) }
        var pageURL: String { "http://127.0.0.1:\(daemon.localAddress.port)/ui" }

        /// A daemon on port 0 (verifying HS256 tokens when `token` is set), a client, and a browser.
        static func make(token: String?) async throws -> Scene {
            let scratch = try TemporaryDirectory(prefix: "dashboard")
            var configuration = DaemonConfiguration()
            configuration.listen = ListenAddress(host: "127.0.0.1", port: 0)
            configuration.storage = .memory
            if token != nil {
                configuration.jwtHS256SecretFile = scratch.path + "/hs256.secret"
                try Data(JWTFixture.secret).write(to: URL(fileURLWithPath: scratch.path + "/hs256.secret"))
            }
            let daemon = try await Daemon.start(configuration, logger: Logger(sink: { _ in }), loopCount: 1)
            let provider = try WebSocketProvider(
                url: "ws://127.0.0.1:\(daemon.localAddress.port)", token: { token }, group: TestNetwork.group)
            do {
                let browser = try await HeadlessChromium.launch()
                try await browser.addScriptOnNewDocument(violationRecorder)
                return Scene(daemon: daemon, provider: provider, browser: browser, scratch: scratch)
            } catch {
                await provider.close()
                await daemon.shutdown()
                scratch.remove()
                throw error
            }
        }

        func stop() async {
            await browser.close()
            await provider.close()
            await daemon.shutdown()
            scratch.remove()
        }
    }

    /// The page's text of `selector`, "" when absent.
    func text(_ browser: HeadlessChromium, _ selector: String) async throws -> String {
        let value = try await browser.evaluate("document.querySelector('\(selector)')?.textContent ?? ''")
        guard case .string(let text) = value else { return "" }
        return text
    }

    @Test(.enabled(if: runs, "chromium is not installed here (apt-get install chromium); CI installs it and runs this"))
    func behindATokenThePageAsksForItThenShowsAWorkerAndALeaseLive() async throws {
        let token = TestJWT.hs256(claims: JWTFixture.claims(exp: Int64(Date().timeIntervalSince1970) + 3_600), secret: JWTFixture.secret)
        let scene = try await Scene.make(token: token)
        do {
            let browser = scene.browser
            try await browser.navigate(to: scene.pageURL)
            #expect(try await browser.waitUntil("!document.getElementById('login').hidden"), "the page asks for a token")
            #expect(try await browser.evaluate("document.getElementById('main').hidden") == .bool(true), "and shows no data without one")

            _ = try await browser.evaluate("document.getElementById('token').value = 'not-a-jwt'; document.getElementById('login-form').requestSubmit(); true")
            let refusedShown = try await browser.waitUntil("document.getElementById('login-error').textContent.includes('segments')")
            let refusal = try await text(browser, "#login-error")
            #expect(refusedShown, "a refused token is answered with the daemon's reason: \(refusal)")

            _ = try await browser.evaluate("document.getElementById('token').value = '\(token)'; document.getElementById('login-form').requestSubmit(); true")
            let connected = try await browser.waitUntil("document.getElementById('link').textContent === 'stream live'")
            let link = try await text(browser, "#link")
            #expect(connected, "the stream connects with the token: \(link)")

            let workerID = WireUUID.random()
            let worker = try await scene.client.registerWorker(id: workerID, metadata: ["role": "indexer", "zone": "eu-1"])
            let lease = try await scene.client.acquire(key: "partition-7", holder: "alice", ttl: .seconds(60))
            #expect(lease.ok)
            try await scene.client.produce(space: "orders", segment: "eu-1", records: [Record(sequence: 1, payload: Array("first".utf8))])

            let workerRow = "#workers tr[data-worker=\"\(workerID)\"]"
            #expect(try await browser.waitUntil("document.querySelector('\(workerRow)') !== null"), "the worker appears")
            #expect(try await text(browser, workerRow).contains("role=indexer"))
            let activity = try await text(browser, "#activity")
            #expect(activity.contains("joined \(workerID)"), "its join is listed: \(activity)")
            #expect(try await browser.waitUntil("document.querySelector('#leases tr[data-lease=\"partition-7\"]') !== null"), "the lease appears")
            let leaseRow = try await text(browser, "#leases tr[data-lease=\"partition-7\"]")
            let fence = try #require(lease.fence)
            #expect(leaseRow.contains("alice") && leaseRow.contains(String(fence)), "\(leaseRow)")
            #expect(try await browser.waitUntil("document.getElementById('spaces').textContent.includes('orders')"), "the space appears")
            #expect(try await text(browser, "#version") == BuildInfo.version)

            let screenshot = try await browser.screenshot()
            let path = scene.scratch.path + "/dashboard.png"
            try Data(screenshot).write(to: URL(fileURLWithPath: path))
            #expect(screenshot.count > 10_000 && screenshot.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]),
                    "a PNG of the page (\(screenshot.count) bytes)")
            if let copy = ProcessInfo.processInfo.environment["COORDD_DASHBOARD_SCREENSHOT"] {
                try Data(screenshot).write(to: URL(fileURLWithPath: copy))
            }

            worker.close()
            #expect(try await browser.waitUntil("document.querySelector('\(workerRow)') === null"), "the worker leaves the page")
            #expect(try await text(browser, "#activity").contains("left"))
            #expect(try await browser.evaluate("window.cspViolations.join(', ')") == .string(""), "the page keeps to its own policy")
        } catch {
            await scene.stop()
            throw error
        }
        await scene.stop()
    }

    @Test(.enabled(if: runs, "chromium is not installed here (apt-get install chromium); CI installs it and runs this"))
    func anAnonymousLoopbackDaemonIsShownWithoutAToken() async throws {
        let scene = try await Scene.make(token: nil)
        do {
            let browser = scene.browser
            try await browser.navigate(to: scene.pageURL)
            #expect(try await browser.waitUntil("document.getElementById('link').textContent === 'stream live'"))
            #expect(try await browser.evaluate("document.getElementById('login').hidden") == .bool(true))
            #expect(try await browser.waitUntil("document.getElementById('ready').textContent === 'ready'"))
            #expect(try await browser.waitUntil("document.getElementById('metrics').textContent.includes('connections')"))
            #expect(try await browser.evaluate("window.cspViolations.join(', ')") == .string(""))
        } catch {
            await scene.stop()
            throw error
        }
        await scene.stop()
    }
}
