// OpenSSL 3 headers for Swift. Functions that OpenSSL defines as macros get a prefixed
// static inline wrapper here (Swift cannot import function-like macros), each with its reason.
#ifndef COORDD_COPENSSL_SHIM_H
#define COORDD_COPENSSL_SHIM_H

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/rand.h>
#include <openssl/bio.h>
#include <openssl/ecdsa.h>

// MARK: - TLS (Transport/TLS)

// SSL_set_tlsext_host_name is a macro over SSL_ctrl: sets the SNI name a client sends.
static inline long coordd_SSL_set_tlsext_host_name(SSL *s, const char *name) {
    return SSL_set_tlsext_host_name(s, name);
}

// SSL_CTX_set_min_proto_version is a macro over SSL_CTX_ctrl. Callers pass OpenSSL's own
// TLS1_2_VERSION / TLS1_3_VERSION constants, which Swift imports as values.
static inline int coordd_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

// SSL_CTX_set_max_proto_version is a macro over SSL_CTX_ctrl (used to build legacy peers in tests).
static inline int coordd_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}

// SSL_set_mode is a macro over SSL_ctrl. The engine writes from buffers that move between
// retries (Swift arrays) and wants each completed record reported, so it sets both modes.
static inline void coordd_SSL_set_partial_moving_write_mode(SSL *s) {
    SSL_set_mode(s, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

// SSL_OP_NO_RENEGOTIATION expands through the function-like SSL_OP_BIT macro, which Swift
// cannot import. Renegotiation is refused: coordd never needs it and it costs the server CPU.
static inline void coordd_SSL_CTX_disable_renegotiation(SSL_CTX *ctx) {
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
}

// SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT combined in C so the flag arithmetic stays
// with the header that defines it: a server with a client CA requires a client certificate.
static inline void coordd_SSL_CTX_require_peer_certificate(SSL_CTX *ctx) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
}

// SSL_VERIFY_PEER on its own: a client verifies the server's chain.
static inline void coordd_SSL_CTX_verify_peer(SSL_CTX *ctx) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
}

// SSL_FILETYPE_PEM is defined through X509_FILETYPE_PEM; loading a PEM key stays in C.
static inline int coordd_SSL_CTX_use_PrivateKey_PEM_file(SSL_CTX *ctx, const char *path) {
    return SSL_CTX_use_PrivateKey_file(ctx, path, SSL_FILETYPE_PEM);
}

// True when `text` is an IPv4 or IPv6 literal. SNI must not carry an IP address (RFC 6066 §3);
// a2i_IPADDRESS allocates, so the result is freed here rather than across the language boundary.
static inline int coordd_is_ip_address(const char *text) {
    ASN1_OCTET_STRING *ip = a2i_IPADDRESS(text);
    if (ip == NULL) {
        return 0;
    }
    ASN1_OCTET_STRING_free(ip);
    return 1;
}

#endif
