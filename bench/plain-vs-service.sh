#!/usr/bin/env bash
# Service vs. a plain ONNX Runtime loop (bench/PlainOnnxBaseline, which shares no code with the service), on the SAME
# sentences, alternating so that drift on a shared machine cancels:
#   throughput: service sentences/s at 64 connections (wrk) / plain best sentences/s
#   latency:    service p50 at 1 connection (wrk)          - plain batch-1 p50 (sessions=1 threads=2)
# Only one side runs at a time: the service gets no requests while the plain process runs, and the plain process has
# exited before wrk starts. Every step also prints the CPU it saw (machine busy, ours, others) so interference shows.
#
# Usage: bench/plain-vs-service.sh [--rounds R] [--port P] [--no-build]
#   (step lengths from the environment: THR_S=15 LEAD_S=3 LAT_S=10 LAT_LEAD_S=2 WARMUP_S=2 CONNS=64)
# Needs: a .NET 10 SDK, wrk, python3, ../shared/eval/stsb-{dev,test}.tsv beside the repository.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROUNDS=3
PORT=5091
BUILD=1
THR_S=${THR_S:-15}      # measured seconds of each throughput step
LEAD_S=${LEAD_S:-3}      # uncounted wrk lead-in before the 64-connection step (plain has --warmup for the same purpose)
LAT_S=${LAT_S:-10}      # measured seconds of each latency step
LAT_LEAD_S=${LAT_LEAD_S:-2}  # uncounted wrk lead-in before the 1-connection step
WARMUP_S=${WARMUP_S:-2}    # plain --warmup
CONNS=${CONNS:-64}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

SVC_DLL=$ROOT/src/EmbeddingService/bin/Release/net10.0/EmbeddingService.dll
PLAIN_DLL=$ROOT/bench/PlainOnnxBaseline/bin/Release/net10.0/PlainOnnxBaseline.dll
URL=http://127.0.0.1:$PORT
WORK=$(mktemp -d /tmp/plain-vs-service.XXXXXX)
SVC_PID=

cleanup() {
  if [[ -n "$SVC_PID" ]] && kill -0 "$SVC_PID" 2>/dev/null; then
    kill "$SVC_PID"; wait "$SVC_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT

if [[ $BUILD == 1 ]]; then
  echo "# building (Release)" >&2
  dotnet build -c Release "$ROOT/EmbeddingService.sln" -nologo -v q >&2
fi
for f in "$SVC_DLL" "$PLAIN_DLL"; do [[ -f $f ]] || { echo "missing $f (build with -c Release)" >&2; exit 1; }; done
command -v wrk >/dev/null || { echo "wrk not found" >&2; exit 1; }

# --- the sentences: the plain program resolves its default list (distinct STS-B dev+test sentences, fixed shuffle) and
# writes it; both sides then read that one file, so they see the same texts in the same order.
dotnet "$PLAIN_DLL" --dump-texts "$WORK/texts.txt" 2>/dev/null
N_TEXTS=$(wc -l < "$WORK/texts.txt")

# --- wrk: one POST /embed body {"inputs":"<sentence>"} per line (JSON has no raw newlines), JSON-escaped by python3.
python3 - "$WORK/texts.txt" "$WORK/bodies.txt" <<'PY'
import json, sys
with open(sys.argv[1], encoding="utf-8") as src, open(sys.argv[2], "w", encoding="utf-8") as dst:
    for line in src:
        text = line.rstrip("\n")
        if text:
            dst.write(json.dumps({"inputs": text}, ensure_ascii=False) + "\n")
PY

cat > "$WORK/embed.lua" <<LUA
-- Cycles through the bodies. Thread k starts k * 0.618 of the way into the list (0 and ~half for wrk's two threads),
-- so the threads do not send the same sentences in lockstep. Requests are formatted once per thread up front, so
-- wrk's own CPU stays small.
local path = "$WORK/bodies.txt"
local next_id = 0
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end
local reqs = {}
local i = 0
function init(args)
  for body in io.lines(path) do
    reqs[#reqs + 1] = wrk.format("POST", "/embed", { ["Content-Type"] = "application/json" }, body)
  end
  i = math.floor((tonumber(wrk.thread:get("id")) or 0) * 0.618 * #reqs) % #reqs
end
function request()
  i = i % #reqs + 1
  return reqs[i]
end
-- One machine-readable line at the end (latency in microseconds, wrk's own histogram).
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK requests=%d duration_us=%d non2xx=%d errors=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
LUA

# --- CPU accounting around a step: machine busy cores (/proc/stat), our child processes (getrusage), the service.
cpu_snap() { # prints: total_jiffies busy_jiffies service_jiffies
  local svc=0
  [[ -n "$SVC_PID" ]] && svc=$(awk '{print $14+$15}' "/proc/$SVC_PID/stat")
  awk -v svc="$svc" '/^cpu /{t=0; for(i=2;i<=NF;i++) t+=$i; print t, t-$5-$6, svc}' /proc/stat
}
# run_step LABEL CMD...: runs CMD, keeps its stdout in $WORK/last.out, and prints one "cpu" line for the step.
run_step() {
  local label=$1; shift
  local before after t0 t1
  before=$(cpu_snap); t0=$(date +%s.%N)
  # The step's own CPU: a python wrapper reports its one child's rusage, exact for this step.
  python3 - "$@" > "$WORK/last.out" 2> "$WORK/last.err" <<'PY' || { cat "$WORK/last.err" >&2; return 1; }
import resource, subprocess, sys
p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, text=True)
sys.stdout.write(p.stdout)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
sys.stderr.write("CHILD_CPU %.3f\n" % (u.ru_utime + u.ru_stime))
sys.exit(p.returncode)
PY
  t1=$(date +%s.%N); after=$(cpu_snap)
  local child; child=$(awk '/^CHILD_CPU/{print $2}' "$WORK/last.err")
  python3 - "$label" "$before" "$after" "$t0" "$t1" "$child" "$(getconf CLK_TCK)" <<'PY' >&2
import sys
label, b, a, t0, t1, child, hz = sys.argv[1:]
b = list(map(float, b.split())); a = list(map(float, a.split())); hz = float(hz)
wall = float(t1) - float(t0)
busy = (a[1] - b[1]) / hz / wall          # cores busy, whole machine
svc = (a[2] - b[2]) / hz / wall           # cores used by the service
ours = float(child) / wall                # cores used by the step's own process (plain or wrk)
print(f"#   cpu {label}: machine {busy:.2f} cores busy, step process {ours:.2f}, service {svc:.2f}, others {max(0.0, busy - ours - svc):.2f} (wall {wall:.1f} s)")
PY
}

# --- steps; each appends one line to $WORK/results: KIND ROUND VALUE (+ info)
plain_thr() { # $1 round, $2 sessions, $3 threads, $4 batch
  run_step "plain ${2}x${3} b$4" dotnet "$PLAIN_DLL" --texts "$WORK/texts.txt" --sessions "$2" --threads "$3" --batch "$4" \
    --seconds "$THR_S" --warmup "$WARMUP_S"
  cat "$WORK/last.out" >&2
  local v; v=$(sed -n 's/.*: \([0-9.]*\) sentences\/s.*/\1/p' "$WORK/last.out")
  echo "plain_thr $1 $v $2x$3b$4" >> "$WORK/results"
}
plain_lat() { # $1 round
  run_step "plain 1x2 b1" dotnet "$PLAIN_DLL" --texts "$WORK/texts.txt" --sessions 1 --threads 2 --batch 1 \
    --seconds "$LAT_S" --warmup "$WARMUP_S"
  cat "$WORK/last.out" >&2
  local v; v=$(sed -n 's/.*p50 batch \([0-9.]*\) ms.*/\1/p' "$WORK/last.out")
  echo "plain_lat $1 $v" >> "$WORK/results"
}
wrk_line() { # prints: sentences/s p50_ms p99_ms non2xx errors
  awk '/^WRK /{for(i=2;i<=NF;i++){split($i,kv,"="); v[kv[1]]=kv[2]}
       printf "%.1f %.2f %.2f %d %d\n", (v["requests"]-v["non2xx"])/(v["duration_us"]/1e6), v["p50_us"]/1000, v["p99_us"]/1000, v["non2xx"], v["errors"]}' "$WORK/last.out"
}
svc_thr() { # $1 round
  wrk -t 2 -c "$CONNS" -d "${LEAD_S}s" --timeout 10s -s "$WORK/embed.lua" "$URL" > /dev/null  # lead-in, not counted
  run_step "wrk c$CONNS" wrk -t 2 -c "$CONNS" -d "${THR_S}s" --timeout 10s -s "$WORK/embed.lua" "$URL"
  read -r v p50 p99 bad err < <(wrk_line)
  echo "service c$CONNS: $v sentences/s, p50 $p50 ms, p99 $p99 ms, non-2xx $bad, socket errors $err" >&2
  echo "svc_thr $1 $v" >> "$WORK/results"
}
svc_lat() { # $1 round
  wrk -t 1 -c 1 -d "${LAT_LEAD_S}s" --timeout 10s -s "$WORK/embed.lua" "$URL" > /dev/null  # lead-in, not counted
  run_step "wrk c1" wrk -t 1 -c 1 -d "${LAT_S}s" --timeout 10s -s "$WORK/embed.lua" "$URL"
  read -r v p50 p99 bad err < <(wrk_line)
  echo "service c1: $v sentences/s, p50 $p50 ms, p99 $p99 ms, non-2xx $bad, socket errors $err" >&2
  echo "svc_lat $1 $p50" >> "$WORK/results"
}

# --- the service
echo "# $N_TEXTS sentences; work dir $WORK; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
(cd "$ROOT" && exec dotnet "$SVC_DLL" --urls "$URL") > "$WORK/service.log" 2>&1 &
SVC_PID=$!
for _ in $(seq 120); do
  [[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/health" || true)" == 200 ]] && break
  kill -0 "$SVC_PID" 2>/dev/null || { cat "$WORK/service.log" >&2; exit 1; }
  sleep 0.5
done
[[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/health")" == 200 ]] || { echo "service not healthy" >&2; exit 1; }
curl -sf -XPOST "$URL/embed" -H 'content-type: application/json' -d '{"inputs":"warm up"}' > /dev/null

plain_thr_round() { # $1 round
  if [[ $1 == 1 ]]; then
    # First round: try the three layouts; the best (highest sentences/s) is this round's plain number and is used after.
    local best_v=0 v cfg
    for cfg in "2 1 8" "2 1 16" "1 2 8"; do
      plain_thr "cand" $cfg
      v=$(awk 'END{print $3}' "$WORK/results")
      if awk -v a="$v" -v b="$best_v" 'BEGIN{exit !(a>b)}'; then best_v=$v; BEST=$cfg; fi
    done
    echo "plain_thr $1 $best_v $(tr ' ' x <<< "$BEST")" >> "$WORK/results"
    echo "# plain best: sessions/threads/batch = $BEST ($best_v sentences/s)" >&2
  else
    plain_thr "$1" $BEST
  fi
}

: > "$WORK/results"
BEST="2 1 8"
for r in $(seq 1 "$ROUNDS"); do
  echo "# round $r ($( ((r % 2)) && echo 'plain first' || echo 'service first' )); load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  if (( r % 2 )); then
    plain_thr_round "$r"; svc_thr "$r"; svc_lat "$r"; plain_lat "$r"
  else
    svc_thr "$r"; plain_thr_round "$r"; plain_lat "$r"; svc_lat "$r"
  fi
done

# --- report
python3 - "$WORK/results" "$BEST" "$CONNS" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
best, conns = sys.argv[2], sys.argv[3]
def get(kind, r):
    return float(next(x[2] for x in rows if x[0] == kind and x[1] == str(r)))
rounds = sorted({int(x[1]) for x in rows if x[1].isdigit()})
cands = [x for x in rows if x[0] == "plain_thr" and x[1] == "cand"]
print("plain candidates (round 1): " + ", ".join(f"{c[3]} {float(c[2]):.1f}/s" for c in cands))
print(f"plain config: sessions/threads/batch = {best}; latency: sessions=1 threads=2 batch=1")
sp = ss = lp = ls = 0.0
for r in rounds:
    p, s, pl, sl = get("plain_thr", r), get("svc_thr", r), get("plain_lat", r), get("svc_lat", r)
    sp += p; ss += s; lp += pl; ls += sl
    print(f"round {r}: service c{conns} {s:.1f}/s / plain {p:.1f}/s = {s / p:.3f}; "
          f"service c1 p50 {sl:.2f} ms - plain b1 p50 {pl:.2f} ms = {sl - pl:+.2f} ms")
n = len(rounds)
print(f"overall ({n} rounds, summed): throughput ratio {ss / sp:.3f} ({ss / n:.1f} / {sp / n:.1f} sentences/s); "
      f"p50 difference {(ls - lp) / n:+.2f} ms ({ls / n:.2f} - {lp / n:.2f} ms)")
PY
