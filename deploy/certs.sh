#!/usr/bin/env bash
# Development certificates for coordd, made with openssl: a CA, a server certificate for the names
# and addresses the daemon is reached by, and client certificates for mutual TLS.
#
#   deploy/certs.sh DIR [NAME...] [--client NAME]...
#
# NAMEs are DNS names or IP addresses for the server certificate's subjectAltName (default: localhost
# 127.0.0.1). Each --client NAME makes NAME.pem and NAME.key (default: one client, "client").
# Idempotent: what exists and still fits is kept — the CA always, a certificate while it verifies
# against the CA and (for the server) names the same subjectAltNames. Keys are written mode 0600.
#
# Files: ca.pem ca.key (the CA), server.pem server.key, <client>.pem <client>.key.
#   coordd --tls-cert DIR/server.pem --tls-key DIR/server.key [--tls-client-ca DIR/ca.pem]
#   coordctl --server wss://HOST:PORT --ca-file DIR/ca.pem [--cert-file DIR/client.pem --key-file DIR/client.key]
# For development only: the CA key sits next to the certificates it signs.
set -euo pipefail

usage() {
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

[ $# -ge 1 ] || usage
case "$1" in -h | --help | -*) usage ;; esac
dir=$1
shift
names=()
clients=()
while [ $# -gt 0 ]; do
    case "$1" in
    --client)
        [ $# -ge 2 ] && [[ "$2" =~ ^[A-Za-z0-9._-]+$ ]] || { echo "certs.sh: --client needs a name of letters, digits, . _ -" >&2; exit 2; }
        clients+=("$2")
        shift 2
        ;;
    -*) usage ;;
    *)
        names+=("$1")
        shift
        ;;
    esac
done
[ ${#names[@]} -gt 0 ] || names=(localhost 127.0.0.1)
[ ${#clients[@]} -gt 0 ] || clients=(client)

# subjectAltName: addresses as IP, everything else as DNS.
san=""
for name in "${names[@]}"; do
    if [[ "$name" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ || "$name" == *:* ]]; then
        san+="${san:+,}IP:$name"
    else
        san+="${san:+,}DNS:$name"
    fi
done

umask 077
mkdir -p "$dir"
cd "$dir"

# A self-contained configuration, so the machine's openssl.cnf cannot add or change extensions.
config=$(mktemp)
trap 'rm -f "$config" ./*.csr' EXIT
cat >"$config" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = coordd
[ca_ext]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $san
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF

new_key() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

# True when $1 exists and verifies against the CA.
issued_by_ca() {
    [ -f "$1" ] && [ -f "${1%.pem}.key" ] && openssl verify -CAfile ca.pem "$1" >/dev/null 2>&1
}

# Issues $1.pem (subject CN $2, extensions section $3) with a fresh key.
issue() {
    new_key "$1.key"
    openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$2" -config "$config" 2>/dev/null
    openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -set_serial "0x$(openssl rand -hex 16)" -days 825 \
        -out "$1.pem" -extfile "$config" -extensions "$3" 2>/dev/null
    echo "made $dir/$1.pem"
}

if [ -f ca.pem ] && [ -f ca.key ]; then
    echo "kept $dir/ca.pem"
else
    new_key ca.key
    openssl req -x509 -new -key ca.key -out ca.pem -days 3650 -subj "/CN=coordd development CA" \
        -config "$config" -extensions ca_ext 2>/dev/null
    rm -f server.pem
    echo "made $dir/ca.pem"
fi

if issued_by_ca server.pem && [ "$(cat server.names 2>/dev/null)" = "$san" ]; then
    echo "kept $dir/server.pem ($san)"
else
    issue server "${names[0]}" server_ext
    echo "$san" >server.names
fi

for client in "${clients[@]}"; do
    if issued_by_ca "$client.pem"; then
        echo "kept $dir/$client.pem"
    else
        issue "$client" "$client" client_ext
    fi
done
chmod 0644 ./*.pem server.names
