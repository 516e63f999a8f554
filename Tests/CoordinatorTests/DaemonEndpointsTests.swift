import Coordinator
import StreamCore
import Testing
import Transport

struct DaemonEndpointsTests {
    func get(_ endpoints: DaemonEndpoints, _ target: String, method: String = "GET") -> HTTPResponse? {
        endpoints.respond(to: HTTPRequestHead(method: method, target: target))
    }

    func text(_ response: HTTPResponse?) -> String {
        String(decoding: response?.body ?? [], as: UTF8.self)
    }

    @Test func healthzAnswersOkWhileTheProcessServes() {
        let endpoints = DaemonEndpoints(metrics: MetricsRegistry())
        for readiness in [{}, endpoints.markReady, endpoints.markShuttingDown] {
            readiness()
            let response = get(endpoints, "/healthz")
            #expect(response?.status == 200)
            #expect(text(response) == "ok coordd \(BuildInfo.version)\n")
        }
    }

    @Test func readyzFollowsStartReadyAndShutdown() {
        let endpoints = DaemonEndpoints(metrics: MetricsRegistry())
        #expect(get(endpoints, "/readyz")?.status == 503)
        #expect(text(get(endpoints, "/readyz")) == "starting\n")
        endpoints.markReady()
        #expect(get(endpoints, "/readyz")?.status == 200)
        endpoints.markShuttingDown()
        #expect(get(endpoints, "/readyz")?.status == 503)
        #expect(text(get(endpoints, "/readyz")) == "shutting down\n")
        endpoints.markReady()
        #expect(endpoints.readiness == .shuttingDown, "a draining daemon never becomes ready again")
    }

    @Test func metricsServesTheRegistryInTheTextFormat() {
        let registry = MetricsRegistry()
        registry.counter("x_total", help: "X.").increment()
        let response = get(DaemonEndpoints(metrics: registry), "/metrics?name=x")
        #expect(response?.status == 200)
        #expect(response?.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8")
        #expect(text(response) == registry.exposition())
    }

    @Test func otherPathsAreLeftToTheServer() {
        let endpoints = DaemonEndpoints(metrics: MetricsRegistry())
        #expect(get(endpoints, "/streamz") == nil)
        #expect(get(endpoints, "/") == nil)
        #expect(get(endpoints, "/healthz/x") == nil)
    }

    @Test func onlyGetAndHeadAreAllowed() {
        let endpoints = DaemonEndpoints(metrics: MetricsRegistry())
        #expect(get(endpoints, "/healthz", method: "HEAD")?.status == 200)
        let response = get(endpoints, "/metrics", method: "POST")
        #expect(response?.status == 405)
        #expect(response?.headers["Allow"] == "GET, HEAD")
    }
}
