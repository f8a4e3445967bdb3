#!/usr/bin/env bash
# Footprint report (issue #5): otlp-sync vs the official OpenTelemetry Rust crates.
#
# For each probe project under benches/compare/footprint/ (a minimal program that exports
# ONE span over OTLP/HTTP; see footprint/README.md):
#   * crates in its dependency graph, counted with cargo tree (host target only):
#       graph  = distinct "name version" pairs of `cargo tree -e normal,build --no-dedupe`,
#                the probe itself included (build scripts' and proc-macros' deps count);
#       linked = the same with `-e normal,no-proc-macro` (no build-only, no proc-macro
#                crates: what can end up in the binary);
#   * two clean builds, each in a fresh temporary target dir, timed (wall seconds, after
#     `cargo fetch`, so no download time): profile `release` (opt-level 3) and profile
#     `size` (opt-level "z", fat LTO, 1 codegen unit; panic = unwind in both);
#   * the binary's size after `strip --strip-all` (bytes), the same for every project;
#   * one run of each binary against a receiver on 127.0.0.1 (port 0): it must exit 0 and
#     the receiver must have got one span (with --sink) or one non-empty POST /v1/traces.
# Prints one markdown table, ratios ours/official, the date and `rustc -V`. Temporary
# target dirs are deleted at the end (also on failure or Ctrl-C).
#
#   benches/compare/footprint.sh [--sink PATH] [--no-run] [PROJECT...]
#
#   PROJECT   any of ours-http ours-tls official official-tls (default: all four)
#   --sink    the comparison sink (benches/compare `sink` binary), which decodes the
#             request and counts spans; without it a small python3 stub receiver answers
#             200 and counts the requests and body bytes (no decoding)
#   --no-run  skip the runs
# Environment: FOOTPRINT_TMP (parent of the temporary target dirs, default /tmp),
# NICE (default 10: builds run under `nice -n $NICE`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="$here/footprint"
nice_level="${NICE:-10}"
sink_bin=""
run=1
projects=()
while [ $# -gt 0 ]; do
    case "$1" in
        --sink) sink_bin="$(realpath "$2")"; shift 2 ;;
        --no-run) run=0; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        ours-http|ours-tls|official|official-tls) projects+=("$1"); shift ;;
        *) echo "footprint.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done
[ ${#projects[@]} -gt 0 ] || projects=(ours-http ours-tls official official-tls)

tmp="$(mktemp -d "${FOOTPRINT_TMP:-/tmp}/footprint.XXXXXX")"
receiver_pid=""
cleanup() {
    if [ -n "$receiver_pid" ]; then kill "$receiver_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "footprint: $*" >&2; }

count_crates() { # $1 = edge kinds
    cargo tree --locked -q -e "$1" --prefix none --no-dedupe --format '{p}' \
        | awk 'NF { print $1 " " $2 }' | sort -u | wc -l
}

# build PROJECT PROFILE: prints "seconds bytes"; leaves the stripped binary in $tmp/bin.
build() {
    local p="$1" profile="$2" target="$tmp/target-$1-$2" t0 t1 out
    t0=$(date +%s.%N)
    CARGO_TARGET_DIR="$target" nice -n "$nice_level" cargo build --locked -q --profile "$profile" >&2
    t1=$(date +%s.%N)
    out="$tmp/bin/footprint-$p-$profile"
    cp "$target/$profile/footprint-$p" "$out"
    strip --strip-all "$out"
    rm -rf "$target"
    echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') $(stat -c %s "$out")"
}

# The receiver: the comparison sink when given, else a python3 stub. Sets $endpoint.
start_receiver() {
    local portfile="$tmp/port"
    if [ -n "$sink_bin" ]; then
        "$sink_bin" --port 0 >"$portfile" 2>"$tmp/receiver.err" &
    else
        python3 - >"$portfile" 2>"$tmp/receiver.err" <<'PY' &
import http.server, json, sys, threading
stats = {"requests": 0, "trace_requests": 0, "trace_bytes": 0, "other": []}
lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def reply(self, code, body=b"", ctype="application/x-protobuf"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock:
            if self.path == "/reset":
                stats.update(requests=0, trace_requests=0, trace_bytes=0, other=[])
                return self.reply(200, b"{}", "application/json")
            stats["requests"] += 1
            if self.path == "/v1/traces" and body and \
                    self.headers.get("Content-Type") == "application/x-protobuf":
                stats["trace_requests"] += 1
                stats["trace_bytes"] += len(body)
            else:
                stats["other"].append(self.path)
        self.reply(200)  # an empty Export*ServiceResponse
    def do_GET(self):
        with lock:
            body = json.dumps(stats).encode()
        self.reply(200, body, "application/json")
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(server.server_address[1], flush=True)
server.serve_forever()
PY
    fi
    receiver_pid=$!
    for _ in $(seq 100); do
        [ -s "$portfile" ] && break
        sleep 0.1
    done
    [ -s "$portfile" ] || { log "the receiver did not start"; cat "$tmp/receiver.err" >&2; exit 1; }
    endpoint="http://127.0.0.1:$(head -n1 "$portfile")"
}

# run_probe BINARY: prints "ok" or "FAIL (...)".
run_probe() {
    local bin="$1" rc=0 stats
    curl -fsS -X POST "$endpoint/reset" >/dev/null
    timeout 60 "$bin" "$endpoint" >"$tmp/run.out" 2>&1 || rc=$?
    stats="$(curl -fsS "$endpoint/stats")"
    if [ -n "$sink_bin" ]; then
        local spans
        spans="$(sed -n 's/.*"spans":\([0-9]*\).*/\1/p' <<<"$stats")"
        if [ "$rc" = 0 ] && [ "$spans" = 1 ]; then echo "ok (sink: 1 span)"; return; fi
        echo "FAIL (exit $rc, sink spans ${spans:-?})"
    else
        local n
        n="$(python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["trace_requests"] if s["requests"] == s["trace_requests"] else -1)' <<<"$stats")"
        if [ "$rc" = 0 ] && [ "$n" = 1 ]; then echo "ok (stub: 1 request)"; return; fi
        echo "FAIL (exit $rc, stub $stats)"
    fi
    sed 's/^/    /' "$tmp/run.out" >&2
}

mkdir -p "$tmp/bin"
[ "$run" = 0 ] || start_receiver
declare -A graph linked secs3 bytes3 secsz bytesz runs
for p in "${projects[@]}"; do
    cd "$dir/$p"
    cargo fetch --locked -q
    graph[$p]=$(count_crates normal,build)
    linked[$p]=$(count_crates normal,no-proc-macro)
    log "$p: ${graph[$p]} crates (${linked[$p]} linked); building release"
    r="$(build "$p" release)"
    read -r "secs3[$p]" "bytes3[$p]" <<<"$r"
    log "$p: release ${secs3[$p]} s, ${bytes3[$p]} bytes; building size"
    r="$(build "$p" size)"
    read -r "secsz[$p]" "bytesz[$p]" <<<"$r"
    log "$p: size ${secsz[$p]} s, ${bytesz[$p]} bytes"
    runs[$p]="not run"
    if [ "$run" = 1 ]; then
        runs[$p]="$(run_probe "$tmp/bin/footprint-$p-release")"
        log "$p: run: ${runs[$p]}"
    fi
done

group() { # 1234567 -> 1,234,567
    local s="$1" out=""
    while [ ${#s} -gt 3 ]; do
        out=",${s: -3}$out"
        s="${s:0:${#s}-3}"
    done
    echo "$s$out"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "Footprint, $(date -u +%Y-%m-%d), $(rustc -V), $(nproc) cores; builds under nice -n $nice_level"
echo
echo "| program | crates in graph (linked) | clean build s, opt 3 | stripped bytes, opt 3 | clean build s, size | stripped bytes, size | run |"
echo "|---|---|---|---|---|---|---|"
for p in "${projects[@]}"; do
    echo "| $p | ${graph[$p]} (${linked[$p]}) | ${secs3[$p]} | $(group "${bytes3[$p]}") | ${secsz[$p]} | $(group "${bytesz[$p]}") | ${runs[$p]} |"
done
pairs=()
[ -n "${graph[ours-http]:-}" ] && [ -n "${graph[official]:-}" ] && pairs+=("ours-http official")
[ -n "${graph[ours-tls]:-}" ] && [ -n "${graph[official-tls]:-}" ] && pairs+=("ours-tls official-tls")
[ -n "${graph[ours-tls]:-}" ] && [ -n "${graph[official]:-}" ] && pairs+=("ours-tls official")
if [ ${#pairs[@]} -gt 0 ]; then
    echo
    echo "| ratio | crates in graph (linked) | build s, opt 3 | bytes, opt 3 | build s, size | bytes, size |"
    echo "|---|---|---|---|---|---|"
    for pair in "${pairs[@]}"; do
        read -r a b <<<"$pair"
        echo "| $a / $b | $(ratio "${graph[$a]}" "${graph[$b]}") ($(ratio "${linked[$a]}" "${linked[$b]}")) | $(ratio "${secs3[$a]}" "${secs3[$b]}") | $(ratio "${bytes3[$a]}" "${bytes3[$b]}") | $(ratio "${secsz[$a]}" "${secsz[$b]}") | $(ratio "${bytesz[$a]}" "${bytesz[$b]}") |"
    done
fi
if [ -n "${graph[ours-http]:-}" ] && [ -n "${graph[official]:-}" ]; then
    # verdict A B OP: is A/B (unrounded) <= 0.5 (OP le) or < 0.5 (OP lt)?
    verdict() { awk -v a="$1" -v b="$2" -v op="$3" 'BEGIN { ok = (op == "le") ? 2 * a <= b : 2 * a < b; print (ok ? "met" : "NOT met") }'; }
    b3=$(ratio "${bytes3[ours-http]}" "${bytes3[official]}")
    bz=$(ratio "${bytesz[ours-http]}" "${bytesz[official]}")
    cr=$(ratio "${graph[ours-http]}" "${graph[official]}")
    echo
    echo "Issue #5 bar, ours-http vs official: stripped size at most half: opt 3 $b3 ($(verdict "${bytes3[ours-http]}" "${bytes3[official]}" le)), size $bz ($(verdict "${bytesz[ours-http]}" "${bytesz[official]}" le)); fewer than half the crates: $cr ($(verdict "${graph[ours-http]}" "${graph[official]}" lt))"
fi
