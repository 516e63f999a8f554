import Coordinator
import StreamCore
import Testing
import Transport

/// The dashboard's files as the daemon serves them: headers, and the rules that let the strict
/// Content-Security-Policy hold (only its own files, nothing inline, no other origin).
struct DashboardTests {
    static let files = ["/ui", "/ui/", "/ui/dashboard.css", "/ui/mux.js", "/ui/dashboard.js", "/ui/assignments.js"]

    func get(_ target: String, method: String = "GET") -> HTTPResponse? {
        DaemonEndpoints(metrics: MetricsRegistry()).respond(to: HTTPRequestHead(method: method, target: target))
    }

    func body(_ target: String) -> String {
        String(decoding: get(target)?.body ?? [], as: UTF8.self)
    }

    @Test(arguments: files)
    func everyFileIsServedWithoutAuthUnderTheStrictPolicy(_ path: String) throws {
        let response = try #require(get(path))
        #expect(response.status == 200)
        #expect(!response.body.isEmpty)
        #expect(response.headers["Content-Security-Policy"] == Dashboard.contentSecurityPolicy)
        #expect(response.headers["X-Content-Type-Options"] == "nosniff")
        let type = try #require(response.headers["Content-Type"])
        #expect(type.hasSuffix("; charset=utf-8"))
        #expect(path.hasSuffix(".js") ? type.hasPrefix("text/javascript") : path.hasSuffix(".css") ? type.hasPrefix("text/css") : type.hasPrefix("text/html"))
        #expect(get(path, method: "HEAD")?.status == 200)
        #expect(get(path, method: "POST")?.status == 405)
    }

    @Test func thePolicyAllowsOnlyTheDaemonsOwnOriginAndNothingInline() {
        let policy = Dashboard.contentSecurityPolicy
        #expect(policy.hasPrefix("default-src 'none'"))
        for directive in ["script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"] {
            #expect(policy.contains(directive))
        }
        #expect(!policy.contains("unsafe") && !policy.contains("*") && !policy.contains("http"))
    }

    @Test func thePageLoadsOnlyServedFilesAndHasNoInlineCodeOrStyle() throws {
        let page = body("/ui")
        let references = try Regex(#"(?:src|href)="([^"]*)""#)
        let targets = page.matches(of: references).map { String($0.output[1].substring ?? "") }
        #expect(Set(targets) == ["/ui/dashboard.css", "/ui/mux.js", "/ui/dashboard.js", "/ui/assignments.js"])
        #expect(!page.contains("style="), "inline styles break style-src 'self'")
        #expect(page.matches(of: try Regex(#"<script[^>]*>[^<]"#)).isEmpty, "inline scripts break script-src 'self'")
        #expect(page.matches(of: try Regex(#"\son[a-z]+="#)).isEmpty, "inline handlers break script-src 'self'")
    }

    @Test(arguments: files)
    func noFileReachesAnotherOrigin(_ path: String) {
        let text = body(path)
        #expect(!text.contains("http://") && !text.contains("https://"), "\(path) names another origin")
        #expect(!text.contains("url("), "\(path) loads a resource from CSS")
        #expect(!text.contains("import ") && !text.contains("eval("), "\(path) loads or evaluates code")
    }

    @Test func theScriptsSpeakTheServersSubprotocolAndStartOnTheDefaultStore() {
        let mux = body("/ui/mux.js")
        #expect(mux.contains("'\(WebSocketSubprotocol.mux)'"))
        #expect(mux.contains("'\(WebSocketSubprotocol.bearerPrefix)'"))
        #expect(body("/ui/dashboard.js").contains("const DEFAULT_STORE = '\(WireUUID.defaultStore)';"))
    }

    @Test func otherPathsUnderUIAreNotFound() {
        #expect(get("/ui/other.js") == nil)
        #expect(get("/uix") == nil)
    }
}
