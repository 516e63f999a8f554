import CoordClient
import CoordTestKit
import Coordinator
import Foundation
import StreamCore
import Testing
import Transport

/// Who may read `/metrics`: anyone when connections need no token; otherwise a token with the metrics
/// scope or every store, unless `--metrics-anonymous`.
@Suite struct MetricsAccessTests {
    static func acceptor(metricsNeedToken: Bool, events: ServerEventLog? = nil) throws -> DaemonAcceptor {
        DaemonAcceptor(
            manager: NodeManager { _ throws(StreamsError) in MemoryStore() }, verifier: try JWTFixture.hmacVerifier(),
            allowAnonymous: false, metricsNeedToken: metricsNeedToken, events: events, nowSeconds: { JWTFixture.now },
            respond: { _ in .text(status: 200, "metrics\n") })
    }

    static func get(_ path: String, token: String? = nil) -> HTTPRequestHead {
        var headers: HTTPHeaders = ["Host": "127.0.0.1"]
        if let token { headers.add(name: "Authorization", value: "Bearer " + token) }
        return HTTPRequestHead(method: "GET", target: path, headers: headers)
    }

    @Test func withTokensRequiredMetricsNeedTheMetricsScopeOrEveryStore() throws {
        let lines = LineCollector()
        let metrics = DaemonMetrics()
        let acceptor = try Self.acceptor(
            metricsNeedToken: true, events: ServerEventLog(logger: Logger(sink: lines.sink), metrics: metrics))
        let store = WireUUID.random()
        #expect(acceptor.respond(to: Self.get("/metrics"))?.status == 401)
        #expect(acceptor.respond(to: Self.get("/metrics", token: hs256Token(scopes: #"["streamkit::\#(store)"]"#)))?.status == 403)
        #expect(acceptor.respond(to: Self.get("/metrics", token: hs256Token(scopes: #"["coordd::metrics"]"#)))?.status == 200)
        #expect(acceptor.respond(to: Self.get("/metrics", token: hs256Token(scopes: #"["streamkit::*"]"#)))?.status == 200)
        #expect(acceptor.respond(to: Self.get("/metrics", token: hs256Token(exp: JWTFixture.now - 60)))?.status == 401)
        #expect(acceptor.respond(to: Self.get("/healthz"))?.status == 200, "probes need no token")
        #expect(metrics.authRejections.value(["missing_token"]) == 1)
        #expect(metrics.authRejections.value(["insufficient_scope"]) == 1)
        #expect(metrics.authRejections.value(["token_expired"]) == 1)
        #expect(lines.all.filter { $0.contains("msg=\"auth rejected\"") && $0.contains(" path=/metrics ") }.count == 3)
    }

    @Test func theMetricsScopeGrantsNoStore() throws {
        let acceptor = try Self.acceptor(metricsNeedToken: true)
        let upgrade = HTTPRequestHead(method: "GET", target: "/streamz", headers: [
            "Host": "127.0.0.1", "Authorization": "Bearer " + hs256Token(scopes: #"["coordd::metrics"]"#),
        ])
        guard case .failure(let refusal) = acceptor.authorize(upgrade, peer: nil) else {
            Issue.record("a metrics-only token opened a connection")
            return
        }
        #expect(refusal.status == 401)
    }

    @Test func withMetricsAnonymousNoTokenIsAsked() throws {
        #expect(try Self.acceptor(metricsNeedToken: false).respond(to: Self.get("/metrics"))?.status == 200)
    }

    @Test(arguments: [
        ([String](), [String: String](), false),
        (["--jwt-hs256-secret-file", "/s"], [:], true),
        (["--jwt-hs256-secret-file", "/s", "--metrics-anonymous"], [:], false),
        (["--jwt-hs256-secret-file", "/s"], ["COORDD_METRICS_ANONYMOUS": "1"], false),
        (["--jwt-hs256-secret-file", "/s", "--allow-anonymous"], [:], false),
    ])
    func metricsNeedATokenExactlyWhenConnectionsDoUnlessAskedNotTo(
        _ arguments: [String], _ environment: [String: String], _ needed: Bool
    ) throws {
        guard case .run(let configuration) = try DaemonConfiguration.parse(arguments: arguments, environment: environment) else {
            throw StreamsError.internalError("not a run")
        }
        #expect(configuration.metricsNeedToken == needed)
        #expect(configuration.logFields.contains { $0 == ("metrics", needed ? "token" : "anonymous") })
    }

    @Test func aDaemonWithTokenKeysRefusesAnAnonymousScrapeUnlessTold() async throws {
        let scratch = try TemporaryDirectory(prefix: "coordd-metrics-auth")
        defer { scratch.remove() }
        let secret = scratch.path + "/secret"
        try Data(JWTFixture.secret).write(to: URL(fileURLWithPath: secret))
        for anonymous in [false, true] {
            var configuration = DaemonLifecycleTests.configuration(.memory, dataDirectory: "-")
            configuration.jwtHS256SecretFile = secret
            configuration.metricsAnonymous = anonymous
            let daemon = try await Daemon.start(configuration, logger: Logger(sink: { _ in }), loopCount: 1)
            let url = try WebSocketURL(parsing: "ws://127.0.0.1:\(daemon.localAddress.port)")
            let metrics = try await HTTPProbe.get(url: url, path: "/metrics", tls: nil, loop: TestNetwork.group.next())
            let health = try await HTTPProbe.get(url: url, path: "/healthz", tls: nil, loop: TestNetwork.group.next())
            #expect(metrics.status == (anonymous ? 200 : 401), "\(metrics)")
            #expect(health.status == 200)
            await daemon.shutdown()
        }
    }
}
