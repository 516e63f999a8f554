extension Dashboard {
    /// `/ui/mux.js`: the streamkit v1 mux (docs/protocol.md) over the browser's own WebSocket, for the
    /// dashboard's few read-only streams.
    static let muxScript = #"""
'use strict';
// The streamkit v1 mux over one WebSocket: one JSON frame per text message, each application message
// base64 inside a frame, a stream ended in-band by {"type":"mux::close"} or {"type":"mux::error"}.
// A browser cannot set Authorization on a WebSocket, so a token travels as a Sec-WebSocket-Protocol
// value beside the coordd.v1 subprotocol (docs/protocol.md, "Browsers").

const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const MUX_SUBPROTOCOL = 'coordd.v1';
const BEARER_PREFIX = 'base64url.bearer.coordd.';

function utf8ToBase64(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function base64ToUtf8(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new TextDecoder().decode(bytes);
}

// crypto.randomUUID exists only in secure contexts; a dashboard may be served over plain HTTP.
function randomUUID() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

class MuxError extends Error {
  constructor(control) {
    super(control.err || control.type);
    this.name = control.error || 'remote_error';
    this.code = control.code;
  }
}

class Mux {
  // onClose(reason) is called once when the connection ends after it opened.
  constructor(token, onClose) {
    this.token = token;
    this.onClose = onClose;
    this.streams = new Map();
    this.socket = null;
  }

  connect() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const protocols = [MUX_SUBPROTOCOL];
    if (this.token) protocols.push(BEARER_PREFIX + utf8ToBase64(this.token).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''));
    return new Promise((resolve, reject) => {
      let opened = false;
      const socket = new WebSocket(`${scheme}//${location.host}/streamz`, protocols);
      this.socket = socket;
      socket.onopen = () => { opened = true; resolve(); };
      socket.onmessage = (event) => this.receive(event.data);
      socket.onclose = (event) => {
        const reason = `connection closed (${event.code}${event.reason ? ' ' + event.reason : ''})`;
        for (const stream of this.streams.values()) stream.onEnd(new Error(reason));
        this.streams.clear();
        if (opened) this.onClose(reason); else reject(new Error(reason));
      };
    });
  }

  close() {
    if (this.socket) this.socket.close(1000);
  }

  send(controlType, store, channel, message) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return;
    const payload = message === null ? null : utf8ToBase64(JSON.stringify(message));
    this.socket.send(JSON.stringify({ ControlType: controlType, store_id: store, channel_id: channel, payload }));
  }

  // Opens a stream whose first message is the enveloped request; onMessage gets each answer (parsed
  // JSON), onEnd(error or null) the end. Returns a function that ends the stream from this side.
  open(store, type, content, onMessage, onEnd) {
    const channel = randomUUID();
    this.streams.set(channel, { onMessage, onEnd });
    this.send('data', store, channel, { $type: type, content });
    return () => {
      if (this.streams.delete(channel)) this.send('data', store, channel, { type: 'mux::close' });
    };
  }

  // Every answer of a stream that ends by itself (a listing, a status), at most `limit` of them.
  collect(store, type, content, limit = 10000) {
    return new Promise((resolve, reject) => {
      const answers = [];
      const stop = this.open(store, type, content, (message) => {
        answers.push(message);
        if (answers.length >= limit) { stop(); resolve(answers); }
      }, (error) => (error ? reject(error) : resolve(answers)));
    });
  }

  receive(text) {
    let frame;
    try { frame = JSON.parse(text); } catch { return; }
    switch (frame.ControlType) {
      case 'ping':
        this.send('pong', NIL_UUID, NIL_UUID, null);
        return;
      case 'data':
      case 'error':
        break;
      default:
        return;
    }
    const stream = this.streams.get(frame.channel_id);
    if (!stream || frame.payload === null) return;
    let message;
    try { message = JSON.parse(base64ToUtf8(frame.payload)); } catch { return; }
    if (message && typeof message.type === 'string' && message.type.startsWith('mux::')) {
      this.streams.delete(frame.channel_id);
      const failed = message.type !== 'mux::close' || message.err;
      stream.onEnd(failed ? new MuxError(message) : null);
      return;
    }
    stream.onMessage(message);
  }
}
"""#
}
