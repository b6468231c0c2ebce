#!/usr/bin/env bash
# Runs crvnode as three nodes of one service on this machine: one
# redis-server (started here on 127.0.0.1:6390 unless REDIS_URL names
# another) and three nodes on http://localhost:8081, :8082 and :8083,
# each with its own media port and data directory. A user logged in on
# one node sees, calls and queues for users on the others, meets them
# (a session moves to its meeting's node) and sends them files. Ctrl-C stops
# everything it started.
#
#   scripts/cluster.sh            # then open http://localhost:8081/ and http://localhost:8082/
#   NODES=5 scripts/cluster.sh    # more nodes
set -euo pipefail
cd "$(dirname "$0")/.."

nodes=${NODES:-3}
data=${DATA:-./data-cluster}
pids=()
stop() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap stop EXIT INT TERM

if [ -z "${REDIS_URL:-}" ]; then
	command -v redis-server >/dev/null || { echo "redis-server not found: apt-get install redis-server" >&2; exit 1; }
	mkdir -p "$data/redis"
	# In production give Redis its persistence (appendonly yes): the log
	# it holds is the service's state.
	redis-server --port 6390 --bind 127.0.0.1 --dir "$data/redis" --appendonly yes --save "" >"$data/redis.log" 2>&1 &
	pids+=($!)
	REDIS_URL=redis://127.0.0.1:6390
	for _ in $(seq 50); do
		redis-cli -p 6390 ping >/dev/null 2>&1 && break
		sleep 0.1
	done
fi

go build -o "$data/crvnode" ./cmd/node
for i in $(seq "$nodes"); do
	mkdir -p "$data/node$i"
	"$data/crvnode" -http ":$((8080 + i))" -rtc ":$((7890 + i))" -turn ":$((3480 + i))" \
		-data "$data/node$i" -redis "$REDIS_URL" -node-url "http://localhost:$((8080 + i))" -cluster-url "http://127.0.0.1:$((8080 + i))" > >(sed "s/^/node$i: /") 2>&1 &
	pids+=($!)
done
echo "crvnode: $nodes nodes on $REDIS_URL: http://localhost:8081/ ... http://localhost:$((8080 + nodes))/ (Ctrl-C stops them)"
wait
