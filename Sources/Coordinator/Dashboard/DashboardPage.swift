extension Dashboard {
    /// `/ui`: the page's structure. It holds no data; the scripts fill it from `/streamz` and the
    /// plain endpoints.
    static let page = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>coordd</title>
<link rel="stylesheet" href="/ui/dashboard.css">
<script src="/ui/mux.js" defer></script>
<script src="/ui/dashboard.js" defer></script>
<script src="/ui/assignments.js" defer></script>
</head>
<body>
<header>
  <h1>coordd <span id="version"></span></h1>
  <div class="badges">
    <span class="badge" id="health" title="/healthz">health …</span>
    <span class="badge" id="ready" title="/readyz">ready …</span>
    <span class="badge" id="link" title="/streamz">stream …</span>
  </div>
  <form id="store-form">
    <label for="store">Store</label>
    <input id="store" list="stores" spellcheck="false" autocomplete="off" size="38">
    <datalist id="stores"></datalist>
    <button type="submit">Show</button>
  </form>
</header>

<section id="login" hidden>
  <form id="login-form" class="card">
    <h2>Token required</h2>
    <p>This daemon verifies bearer tokens. Paste a JWT whose <code>scopes</code> cover the store; it stays
      in this tab only.</p>
    <input id="token" type="password" autocomplete="off" spellcheck="false" placeholder="eyJhbGciOi…">
    <button type="submit">Connect</button>
    <p id="login-error" class="error"></p>
  </form>
</section>

<main id="main" hidden>
  <section class="card wide">
    <h2>Workers <span class="count" id="workers-count">0</span> <span class="note" id="revision"></span></h2>
    <table>
      <thead><tr><th>Worker</th><th>Metadata</th><th class="num">Last seen</th></tr></thead>
      <tbody id="workers"></tbody>
    </table>
    <p class="empty" id="workers-empty">No workers registered.</p>
  </section>

  <section class="card">
    <h2>Leases <span class="count" id="leases-count">0</span></h2>
    <table>
      <thead><tr><th>Key</th><th>Holder</th><th class="num">Fence</th><th class="num">Time left</th></tr></thead>
      <tbody id="leases"></tbody>
    </table>
    <p class="empty" id="leases-empty">No live leases.</p>
  </section>

\#(assignmentsCard)
  <section class="card">
    <h2>Joins and leaves</h2>
    <ol id="activity"></ol>
    <p class="empty" id="activity-empty">Nothing has changed since this page connected.</p>
  </section>

  <section class="card">
    <h2>Store</h2>
    <dl class="figures" id="status"></dl>
    <table>
      <thead><tr><th>Space</th><th class="num">Segments</th><th>Segment names</th></tr></thead>
      <tbody id="spaces"></tbody>
    </table>
    <p class="empty" id="spaces-empty">No spaces.</p>
  </section>

  <section class="card">
    <h2>Daemon</h2>
    <dl class="figures" id="metrics"></dl>
  </section>
</main>

<footer id="footer">Ages and times left are read against this browser's clock.</footer>
</body>
</html>
"""#
}
