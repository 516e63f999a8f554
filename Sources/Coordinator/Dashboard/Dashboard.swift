import Transport

/// The operator's dashboard at `/ui`: a page, a style sheet and two scripts compiled into the binary,
/// served without authentication because they hold no data. The data comes from `/streamz` (with the
/// token the page asks for when the daemon verifies tokens) and from `/healthz`, `/readyz`, `/metrics`.
///
/// Every answer carries a Content-Security-Policy that lets the page load only its own files and talk
/// only to its own origin: no inline script or style, no third-party resource, no framing.
public enum Dashboard {
    /// The policy sent with every file. `connect-src 'self'` covers the same-origin WebSocket
    /// (`ws:`/`wss:` of the page's host, CSP Level 3).
    public static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// One served file.
    struct Asset {
        var contentType: String
        var body: [UInt8]
    }

    /// The files by path; `/ui` and `/ui/` are the page.
    static let assets: [String: Asset] = {
        let html = Asset(contentType: "text/html; charset=utf-8", body: Array(Dashboard.page.utf8))
        return [
            "/ui": html,
            "/ui/": html,
            "/ui/dashboard.css": Asset(contentType: "text/css; charset=utf-8", body: Array(style.utf8)),
            "/ui/mux.js": Asset(contentType: "text/javascript; charset=utf-8", body: Array(muxScript.utf8)),
            "/ui/dashboard.js": Asset(contentType: "text/javascript; charset=utf-8", body: Array(script.utf8)),
            "/ui/assignments.js": Asset(contentType: "text/javascript; charset=utf-8", body: Array(assignmentsScript.utf8)),
        ]
    }()

    /// The answer for `path` (GET or HEAD already checked), or nil when it is not a dashboard file.
    static func response(for path: Substring) -> HTTPResponse? {
        guard let asset = assets[String(path)] else { return nil }
        return HTTPResponse(
            status: 200,
            headers: [
                "Content-Type": asset.contentType,
                "Content-Security-Policy": contentSecurityPolicy,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
                // The files change only with the binary; a browser asks again rather than show a stale one.
                "Cache-Control": "no-cache",
            ],
            body: asset.body)
    }

    /// True when `path` is one of the dashboard's files.
    static func serves(_ path: Substring) -> Bool {
        assets[String(path)] != nil
    }
}
