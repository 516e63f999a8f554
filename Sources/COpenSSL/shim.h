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

#endif
