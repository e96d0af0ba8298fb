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
