# Starts Debian's docker-registry (Distribution 2.8) on loopback for the tests, in the
# configurations they need; every server started here is stopped on exit by PID.
SERVER_PIDS=()
stop_servers() {
  for pid in "${SERVER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${SERVER_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap 'stop_servers; cleanup' EXIT

free_port() { python3 "$PY_DIR/net.py" free-port; }

wait_port() { python3 "$PY_DIR/net.py" wait-port "$1"; }  # until something listens on PORT

# make_ca: a CA and a server certificate for 127.0.0.1 and localhost in $WORK/tls.
make_ca() {
  mkdir -p "$WORK/tls" && cd "$WORK/tls"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj "/CN=d2a test CA" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=127.0.0.1" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > san.ext
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile san.ext 2>/dev/null
  openssl req -x509 -newkey rsa:2048 -nodes -keyout token.key -out token.crt -days 2 -subj "/CN=d2a token signer" 2>/dev/null
  cd "$WORK"
}

# start_registry NAME [extra YAML lines]: sets ${NAME}_PORT; data and log in $WORK/NAME.
start_registry() {
  local name=$1; shift
  local port; port=$(free_port)
  mkdir -p "$WORK/$name"
  {
    echo "version: 0.1"
    echo "log: {level: info}"
    echo "storage: {filesystem: {rootdirectory: $WORK/$name/data}, delete: {enabled: true}}"
    echo "compatibility: {schema1: {enabled: true}}"
    echo "http:"
    echo "  addr: 127.0.0.1:$port"
    printf '%s\n' "$@"
  } > "$WORK/$name/config.yml"
  docker-registry serve "$WORK/$name/config.yml" > "$WORK/$name/log" 2>&1 &
  SERVER_PIDS+=($!)
  wait_port "$port"
  printf -v "${name}_PORT" '%s' "$port"
}

# mirror_key: a GNUPGHOME of the test's own holding an RSA signing key (rkt verifies RSA,
# not Ed25519); sets fpr. At exit its gpg-agent is stopped with the servers.
mirror_key() {
  export GNUPGHOME="$WORK/gnupg"
  mkdir -m 700 "$GNUPGHOME"
  trap 'gpgconf --homedir "$GNUPGHOME" --kill gpg-agent 2>/dev/null || true; stop_servers; cleanup' EXIT
  gpg --batch --quiet --passphrase '' --quick-gen-key 'mirror <mirror@example.invalid>' rsa2048 sign never 2> /dev/null
  fpr=$(gpg --with-colons --list-secret-keys | awk -F: '/^fpr/ {print $10; exit}')
}
