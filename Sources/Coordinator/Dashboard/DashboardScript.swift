import StreamCore

extension Dashboard {
    /// `/ui/dashboard.js`: connects, watches the store's workers as an observer with deltas, lists the
    /// leases, spaces and segments periodically, and polls the daemon's health endpoints.
    static let script = #"""
'use strict';
const DEFAULT_STORE = '\#(WireUUID.defaultStore)';
// How often each part is read again, and how much of it is shown: a dashboard must stay cheap for the
// daemon however large the store grows.
const REFRESH_MS = { leases: 2000, store: 5000, health: 5000, clock: 1000 };
const LIMITS = { leases: 500, spaces: 200, spacesWithSegments: 50, segmentNames: 6, workerRows: 1000, activity: 200 };
const RETRY_MS = { first: 1000, max: 15000 };
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const $ = (id) => document.getElementById(id);
const state = {
  store: DEFAULT_STORE, token: sessionStorage.getItem('coordd.token') || '', mux: null, retryMs: RETRY_MS.first,
  workers: new Map(), joinedAt: new Map(), snapshotSeen: false, revision: null, stopWorkers: null,
  leases: [], busy: { leases: false, store: false }, metricsRefusedFor: null,
};

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function row(cells) {
  const tr = document.createElement('tr');
  for (const [text, className] of cells) tr.append(element('td', className, text));
  return tr;
}

function duration(ms) {
  const s = Math.floor(Math.max(0, ms) / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

function setBadge(id, kind, text) {
  const badge = $(id);
  badge.className = `badge ${kind}`;
  badge.textContent = text;
}

function figures(id, pairs) {
  const list = $(id);
  list.replaceChildren(...pairs.map(([name, value]) => {
    const item = element('div');
    item.append(element('dt', '', name), element('dd', '', String(value)));
    return item;
  }));
}

// ---- Connection and token ----

// A plain GET of /streamz answers 401 with the reason when the token is missing or refused, and
// something else (426, no upgrade asked) when it would be accepted: the reason a WebSocket cannot show.
async function refusal(token) {
  const response = await fetch('/streamz', { headers: token ? { Authorization: `Bearer ${token}` } : {}, cache: 'no-store' });
  return response.status === 401 ? ((await response.text()).trim() || 'unauthorized') : null;
}

async function connect() {
  let refused;
  try {
    refused = await refusal(state.token);
  } catch (error) {
    return lost('daemon unreachable');
  }
  if (refused) return askForToken(state.token ? refused : '');
  $('login').hidden = true;
  $('main').hidden = false;
  const mux = new Mux(state.token, lost);
  try {
    await mux.connect();
  } catch (error) {
    return lost(error.message);
  }
  state.mux = mux;
  state.retryMs = RETRY_MS.first;
  setBadge('link', 'ok', 'stream live');
  showStore();
}

function lost(reason) {
  state.mux = null;
  state.stopWorkers = null;
  setBadge('link', 'bad', `stream down: ${reason}; retrying`);
  setTimeout(connect, state.retryMs);
  state.retryMs = Math.min(state.retryMs * 2, RETRY_MS.max);
}

function askForToken(reason) {
  $('main').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = reason;
  setBadge('link', 'bad', 'token required');
  $('token').focus();
}

$('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  state.token = $('token').value.trim();
  sessionStorage.setItem('coordd.token', state.token);
  connect();
});

// ---- Store picker ----

function storeFromHash() {
  const match = /^#store=(.+)$/.exec(location.hash);
  return match && UUID_PATTERN.test(match[1]) ? match[1].toLowerCase() : null;
}

function remember(store) {
  const known = [...$('stores').options].map((option) => option.value);
  if (!known.includes(store)) $('stores').append(new Option(store, store));
}

$('store-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const store = $('store').value.trim().toLowerCase();
  if (!UUID_PATTERN.test(store)) {
    $('store').setCustomValidity('a store is a UUID');
    $('store').reportValidity();
    return;
  }
  $('store').setCustomValidity('');
  location.hash = `store=${store}`;
});

window.addEventListener('hashchange', () => {
  state.store = storeFromHash() || DEFAULT_STORE;
  showStore();
});

function showStore() {
  $('store').value = state.store;
  remember(state.store);
  if (state.stopWorkers) state.stopWorkers();
  state.workers = new Map();
  state.joinedAt = new Map();
  state.snapshotSeen = false;
  $('activity').replaceChildren();
  renderWorkers();
  if (!state.mux) return;
  watchWorkers();
  refreshLeases();
  refreshStore();
}

// ---- Workers: an observer with deltas ----

function watchWorkers() {
  const mux = state.mux;
  const store = state.store;
  state.stopWorkers = mux.open(store, 'streamkit://api/v1/subscribe_workers',
    { worker_id: NIL_UUID, heartbeat_interval_seconds: 0, deltas: true }, receiveInventory, (error) => {
      if (state.mux !== mux || state.store !== store) return;
      $('revision').textContent = `subscription ended: ${error ? error.message : 'by the daemon'}; resubscribing`;
      setTimeout(() => { if (state.mux === mux && state.store === store) watchWorkers(); }, RETRY_MS.first);
    });
}

function receiveInventory(envelope) {
  const message = envelope.content || {};
  if (envelope.$type === 'streamkit://api/v1/worker_inventory') {
    const next = new Map((message.workers || []).map((worker) => [worker.worker_id, worker]));
    if (state.snapshotSeen) {
      for (const [id, worker] of next) if (!state.workers.has(id)) note('joined', worker);
      for (const [id, worker] of state.workers) if (!next.has(id)) note('left', worker);
    }
    state.workers = next;
    state.snapshotSeen = true;
  } else if (envelope.$type === 'coordd://api/v1/worker_inventory_delta') {
    for (const worker of message.joined || []) { state.workers.set(worker.worker_id, worker); note('joined', worker); }
    for (const worker of message.updated || []) { state.workers.set(worker.worker_id, worker); note('updated', worker); }
    for (const id of message.left || []) { note('left', state.workers.get(id) || { worker_id: id }); state.workers.delete(id); }
  } else {
    return;
  }
  state.revision = message.revision;
  renderWorkers();
}

function metadataText(metadata) {
  return Object.keys(metadata || {}).sort().map((key) => `${key}=${metadata[key]}`);
}

function note(kind, worker) {
  if (kind === 'joined') state.joinedAt.set(worker.worker_id, Date.now());
  const item = element('li');
  item.append(element('time', '', new Date().toLocaleTimeString()), element('span', kind, kind), ' ',
    element('span', 'mono', worker.worker_id), ' ', ...metadataText(worker.metadata).map((pair) => element('span', 'chip', pair)));
  $('activity').prepend(item);
  while ($('activity').children.length > LIMITS.activity) $('activity').lastChild.remove();
  $('activity-empty').hidden = true;
}

function renderWorkers() {
  const now = Date.now();
  const workers = [...state.workers.values()].sort((a, b) => a.worker_id.localeCompare(b.worker_id));
  const rows = workers.slice(0, LIMITS.workerRows).map((worker) => {
    const tr = document.createElement('tr');
    tr.dataset.worker = worker.worker_id;
    if (now - (state.joinedAt.get(worker.worker_id) || 0) < 3000) tr.className = 'fresh';
    const metadata = element('td');
    for (const pair of metadataText(worker.metadata)) metadata.append(element('span', 'chip', pair));
    tr.append(element('td', 'mono', worker.worker_id), metadata, element('td', 'num age', duration(now - worker.last_seen_at)));
    tr.lastChild.dataset.seen = worker.last_seen_at;
    return tr;
  });
  $('workers').replaceChildren(...rows);
  $('workers-count').textContent = workers.length;
  $('workers-empty').hidden = workers.length > 0;
  $('revision').textContent = state.revision === null ? '' : `revision ${state.revision}`
    + (workers.length > LIMITS.workerRows ? `, first ${LIMITS.workerRows} shown` : '');
  $('activity-empty').hidden = $('activity').children.length > 0;
}

// ---- Leases ----

async function refreshLeases() {
  if (!state.mux || state.busy.leases) return;
  state.busy.leases = true;
  try {
    state.leases = await state.mux.collect(state.store, 'coordd://api/v1/lease_list', { prefix: '', limit: LIMITS.leases });
    renderLeases();
  } catch (error) {
    $('leases-empty').hidden = false;
    $('leases-empty').textContent = `cannot list leases: ${error.message}`;
  } finally {
    state.busy.leases = false;
  }
}

function renderLeases() {
  const now = Date.now();
  $('leases').replaceChildren(...state.leases.map((lease) => {
    const bound = lease.expires_at === 0;
    const left = Math.max(0, lease.expires_at - now);
    const tr = row([[lease.key, 'mono'], [lease.holder, 'mono'], [String(lease.fence), 'num'],
      [bound ? `with worker ${String(lease.worker_id || '').slice(0, 8)}` : duration(left), 'num']]);
    tr.dataset.lease = lease.key;
    if (!bound && lease.ttl_ms > 0) {
      const bar = element('div', 'bar');
      bar.style.width = `${Math.min(100, (100 * left) / lease.ttl_ms)}%`;
      tr.lastChild.append(bar);
    }
    return tr;
  }));
  $('leases-count').textContent = state.leases.length;
  $('leases-empty').hidden = state.leases.length > 0;
  $('leases-empty').textContent = 'No live leases.';
}

// ---- Store: status, spaces and segments ----

async function refreshStore() {
  if (!state.mux || state.busy.store) return;
  state.busy.store = true;
  const mux = state.mux;
  const store = state.store;
  try {
    const [status] = await mux.collect(store, 'streamkit://api/v1/get_status', {}, 1);
    const spaces = await mux.collect(store, 'streamkit://api/v1/get_spaces', {}, LIMITS.spaces);
    const segments = await Promise.all(spaces.slice(0, LIMITS.spacesWithSegments)
      .map((space) => mux.collect(store, 'streamkit://api/v1/get_segments', { space })));
    if (store !== state.store) return;
    figures('status', [['storage', status.storage], ['spaces', status.spaces], ['segments', status.segments],
      ['entries', status.entries], ['payload', bytes(status.payload_bytes)], ['workers', status.workers],
      ['observers', status.observers], ['leases', status.leases]]);
    $('spaces').replaceChildren(...spaces.map((space, i) => {
      const names = segments[i];
      if (!names) return row([[space, 'mono'], ['…', 'num'], ['not listed', '']]);
      const shown = names.slice(0, LIMITS.segmentNames).join(', ') + (names.length > LIMITS.segmentNames ? ', …' : '');
      return row([[space, 'mono'], [String(names.length), 'num'], [shown, 'mono']]);
    }));
    $('spaces-empty').hidden = spaces.length > 0;
    $('spaces-empty').textContent = 'No spaces.';
  } catch (error) {
    $('spaces-empty').hidden = false;
    $('spaces-empty').textContent = `cannot read the store: ${error.message}`;
  } finally {
    state.busy.store = false;
  }
}

// ---- The daemon: /healthz, /readyz, /metrics ----

const SERIES = [['connections', 'coordd_connections'], ['streams open', 'coordd_streams_open'],
  ['stores open', 'coordd_stores_open'], ['workers', 'coordd_workers'], ['observers', 'coordd_observers'],
  ['leases held', 'coordd_leases_held'], ['entries produced', 'coordd_produced_entries_total'],
  ['inventory deliveries', 'coordd_inventory_deliveries_total']];

async function refreshHealth() {
  try {
    const health = await fetch('/healthz', { cache: 'no-store' });
    const text = (await health.text()).trim();
    setBadge('health', health.ok ? 'ok' : 'bad', health.ok ? 'healthy' : `health ${health.status}`);
    if (health.ok) $('version').textContent = text.replace(/^ok coordd /, '');
    const ready = await fetch('/readyz', { cache: 'no-store' });
    setBadge('ready', ready.ok ? 'ok' : 'bad', ready.ok ? 'ready' : (await ready.text()).trim());
    // /metrics needs a token with coordd::metrics or streamkit::* when connections need one; a refused
    // token is not offered again every refresh (each refusal is a warn line on the daemon).
    if (state.metricsRefusedFor === state.token) return;
    const answer = await fetch('/metrics', {
      headers: state.token ? { Authorization: `Bearer ${state.token}` } : {}, cache: 'no-store' });
    if (answer.status === 401 || answer.status === 403) {
      state.metricsRefusedFor = state.token;
      figures('metrics', [['metrics', 'refused: they need a token with coordd::metrics or streamkit::*']]);
      return;
    }
    const metrics = await answer.text();
    const values = new Map();
    for (const line of metrics.split('\n')) {
      const match = /^([a-z_]+) (\S+)$/.exec(line);
      if (match) values.set(match[1], Number(match[2]));
    }
    figures('metrics', SERIES.map(([label, name]) => [label, values.has(name) ? values.get(name) : '–']));
  } catch (error) {
    setBadge('health', 'bad', 'unreachable');
    setBadge('ready', 'bad', 'unreachable');
  }
}

// ---- Clocks ----

function tick() {
  const now = Date.now();
  for (const cell of document.querySelectorAll('#workers td.age')) cell.textContent = duration(now - Number(cell.dataset.seen));
  for (const tr of document.querySelectorAll('#workers tr.fresh')) {
    if (now - (state.joinedAt.get(tr.dataset.worker) || 0) >= 3000) tr.className = '';
  }
  if (state.leases.length > 0) renderLeases();
}

state.store = storeFromHash() || DEFAULT_STORE;
$('store').value = state.store;
remember(DEFAULT_STORE);
setInterval(refreshLeases, REFRESH_MS.leases);
setInterval(refreshStore, REFRESH_MS.store);
setInterval(refreshHealth, REFRESH_MS.health);
setInterval(tick, REFRESH_MS.clock);
refreshHealth();
connect();
"""#
}
