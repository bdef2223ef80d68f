#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# mkca.sh DIR NAME: a throwaway test CA and a server certificate for NAME
# (a DNS name, or an IPv4/IPv6 address) in DIR:
#   DIR/ca.crt DIR/ca.key          the CA (pass ca.crt as --github-ca / CAINFO)
#   DIR/server.crt DIR/server.key  the server, SAN = NAME, serverAuth
# EC P-256 keys, valid 2 days.  Nothing outside DIR is touched.
set -euo pipefail

if [ $# -ne 2 ]; then
	echo "usage: $0 DIR NAME" >&2
	exit 2
fi
dir=$1
name=$2

case $name in
*:*) san="IP:$name" ;;
*[!0-9.]*) san="DNS:$name" ;;
*) san="IP:$name" ;;
esac

mkdir -p "$dir"
cd "$dir"
umask 077

openssl ecparam -name prime256v1 -genkey -noout -out ca.key 2>/dev/null
openssl req -x509 -new -key ca.key -sha256 -days 2 -subj "/CN=egressd test CA" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" \
	-out ca.crt 2>/dev/null

openssl ecparam -name prime256v1 -genkey -noout -out server.key 2>/dev/null
openssl req -new -key server.key -subj "/CN=$name" -out server.csr 2>/dev/null
cat > server.ext <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$san
EXT
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
	-days 2 -sha256 -extfile server.ext -out server.crt 2>/dev/null
rm -f server.csr server.ext ca.srl
chmod 0644 ca.crt server.crt
