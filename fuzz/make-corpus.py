#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/: a few valid and edge-case inputs per target, small files."""
import base64, os, struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    os.makedirs(os.path.join(ROOT, target), exist_ok=True)
    with open(os.path.join(ROOT, target, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


# HTTP: the first byte says where the head is split.
upgrade = ("GET /streamkit/mux HTTP/1.1\r\nHost: 127.0.0.1:7000\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
           "Authorization: Bearer abc.def.ghi\r\n\r\n")
put("http_request", "upgrade", b"\x20" + upgrade.encode())
put("http_request", "get-healthz", b"\x05GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
put("http_request", "bare-lf", b"\x00GET / HTTP/1.1\nHost: x\n\n")
put("http_request", "folded-header", b"\x03GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n")
put("http_request", "http10-post", b"\x09POST /metrics HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello")


# WebSocket: the first byte picks the role (bit 0: 0 server, 1 client) and the piece size.
def ws(opcode, payload, mask=None, fin=True, length_form=None):
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    mbit = 0x80 if mask is not None else 0
    if length_form == 16 or (length_form is None and 126 <= n < 65536):
        head += bytes([mbit | 126]) + struct.pack(">H", n)
    elif length_form == 64 or (length_form is None and n >= 65536):
        head += bytes([mbit | 127]) + struct.pack(">Q", n)
    else:
        head += bytes([mbit | n])
    if mask is not None:
        head += mask
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + payload


key = b"\x12\x34\x56\x78"
put("websocket_frame", "masked-text", b"\x00" + ws(1, b'{"ControlType":"ping"}', key))
put("websocket_frame", "fragmented", b"\x08" + ws(1, b"hel", key, fin=False) + ws(0, b"lo", key))
put("websocket_frame", "ping-close", b"\x02" + ws(9, b"hi", key) + ws(8, b"\x03\xe8bye", key))
put("websocket_frame", "unmasked-16bit", b"\x01" + ws(2, b"x" * 130))
put("websocket_frame", "non-minimal-64bit", b"\x01" + ws(2, b"ab", length_form=64))

# Mux frames: canonical ones the scanner reads, and forms only the general decoder takes.
store, channel = "00000000-0000-0000-0000-000000000001", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
payload = base64.b64encode(b'{"type":"lease_acquire","key":"k"}').decode()
put("mux_frame", "data", '{"ControlType":"data","store_id":"%s","channel_id":"%s","payload":"%s"}' % (store, channel, payload))
put("mux_frame", "ping", '{"ControlType":"ping","store_id":"%s","channel_id":"%s","payload":null}' % ("0" * 8 + "-0000-0000-0000-" + "0" * 12, "0" * 8 + "-0000-0000-0000-" + "0" * 12))
put("mux_frame", "other-case-keys", '{ "controltype" : "close", "STORE_ID":"%s", "Channel_ID":"%s" }' % (store.upper(), channel))
put("mux_frame", "escaped", '{"ControlType":"d\\u0061ta","store_id":"%s","channel_id":"%s","payload":"QQ\\u003d\\u003d"}' % (store, channel))
put("mux_frame", "trace", '{"ControlType":"data","store_id":"%s","channel_id":"%s","payload":"","trace_context":{"traceparent":"00-ab"}}' % (store, channel))

# JSON documents and envelopes.
put("json", "envelope", '{"type":"lease_acquire","key":"jobs/1","holder":"w1","ttl_ms":30000}')
put("json", "numbers", '[0,-0,1.5e3,18446744073709551615,-9223372036854775808,1e-400,2E+2]')
put("json", "strings", '["a\\"b\\\\c\\/\\n\\u00e9\\ud83d\\ude00","\\ud800x"]')
put("json", "duplicate", '{"a":1,"a":{"b":[],"b":null}}')
put("json", "nested", "[" * 40 + "]" * 40)
put("json", "record", '{"sequence":18446744073709551615,"payload":"AAEC/+8="}')
put("json", "record-null", '{"sequence":7,"payload":null}')
put("json", "record-batch", '{"records":[{"sequence":7,"payload":null},{"sequence":8,"payload":"AAEC/+8="}]}')
put("json", "entry", '{"sequence":7,"timestamp":1767225600000,"trx":{"id":"0123abcd-0000-4000-8000-00000000000f","node":"00000000-0000-0000-0000-000000000000","number":3},"payload":"AAEC/+8=","space":"orders","segment":"eu-1"}')
put("json", "entry-batch", '{"entries":[{"sequence":7,"trx":{"id":"00000000-0000-0000-0000-000000000000","node":"00000000-0000-0000-0000-000000000000","number":3},"payload":null,"space":"s","segment":"g"}]}')
put("json", "lease-renew", '{"key":"p-7","holder":"a","ttl_seconds":0,"ttl_ms":5000}')
put("json", "lease-op-acquire", '{"op":"acquire","key":"p-7","holder":"a","ttl_seconds":30,"worker_id":"0123abcd-0000-4000-8000-00000000000f"}')
put("json", "lease-op-release", '{"op":"release","key":"p-7","holder":"a"}')
put("json", "lease-result", '{"ok":false,"reason":"held","fence":9,"holder":"b","expires_at":1767225600000,"ttl_ms":5000}')


# Lease events: version 1, kinds granted / released / expired.
def lstr(s):
    b = s.encode()
    return struct.pack("<I", len(b)) + b


put("lease_event", "granted", bytes([0x11]) + lstr("jobs/1") + lstr("worker-a") + struct.pack("<Qq", 7, 30000) + b"\x00")
put("lease_event", "granted-bound", bytes([0x11]) + lstr("k") + lstr("h") + struct.pack("<Qq", 1, 5) + b"\x01" + struct.pack("<Q", 9))
put("lease_event", "released", bytes([0x12]) + lstr("jobs/1") + lstr("worker-a") + struct.pack("<Q", 7))
put("lease_event", "expired", bytes([0x13]) + lstr("é") + struct.pack("<Q", 2**64 - 1))


# Log frames after the file header: records, then a commit frame (batch number, record count).
def frame(kind, flags, payload):
    body = struct.pack("<I", len(payload)) + bytes([kind, flags]) + payload
    crc = crc32c(body)
    return struct.pack("<II", len(payload), crc) + bytes([kind, flags]) + payload


def commit(batch, records):
    return frame(0, 1, struct.pack("<QI", batch, records))


put("log_scan", "one-batch", frame(1, 0, b"hello") + frame(2, 0, b"") + commit(1, 2))
put("log_scan", "two-batches", frame(1, 0, b"a") + commit(5, 1) + frame(1, 0, b"bc") + commit(6, 1))
put("log_scan", "torn-tail", frame(1, 0, b"a") + commit(1, 1) + frame(1, 0, b"partial")[:9])
put("log_scan", "wrong-count", frame(1, 0, b"a") + commit(1, 2))
put("log_scan", "empty-commit", commit(1, 0))
