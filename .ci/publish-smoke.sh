#!/usr/bin/env bash
# Publish-and-run smoke test of the Dockerfile, for machines without a Docker engine.
#
# It reads the Dockerfile instead of repeating it:
#   build stage: copies the files its COPY lines name (from the tracked and unignored files, as a clean build context
#                would hold them) into a temporary /src, then runs its RUN lines there (restore, then the publish
#                command exactly as written, only "-o /app" pointed at a temporary folder);
#   final stage: takes WORKDIR, ENV, USER, EXPOSE, HEALTHCHECK and ENTRYPOINT, and starts the published output with
#                that entrypoint and environment (on top of what the aspnet base image sets), as UID 1654 when run as root.
# Then it checks: GET /health answers 200; POST /embed returns one 384-dimension vector; both built-in models loaded
# from the graphs the publish prepared; the HEALTHCHECK command exits 0
# while the service runs (and 1 against a port nobody listens on); a second copy on the same port exits 1 saying why,
# and a copy with a missing model folder exits 1; SIGTERM stops the service cleanly.
#
# The service listens on SMOKE_PORT (default: a free port from 18080 up) instead of 8080, so it can run beside another
# instance; with SMOKE_PORT=8080 the HEALTHCHECK command runs exactly as written in the Dockerfile.
# As root it also runs the service in a mount namespace where only /tmp is writable (the read-only root file system of
# the Kubernetes manifest and compose file).
# Environment: SMOKE_PORT, SMOKE_KEEP=1 (keep the work folder, under artifacts/), SMOKE_AS_ROOT=1 (do not switch
# user), SMOKE_READ_ONLY=0 (skip the read-only file system), SMOKE_TIMEOUT_S (readiness wait, default 120).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# No build servers left behind holding this script's output open (a test runs this script and waits for it).
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 UseSharedCompilation=false

say() { printf '[publish-smoke] %s\n' "$*"; }
fail() { printf '[publish-smoke] FAIL: %s\n' "$*" >&2; exit 1; }
command -v dotnet >/dev/null || fail "dotnet SDK not found"
command -v curl >/dev/null || fail "curl not found (the host needs it; the image does not)"
git rev-parse --show-toplevel >/dev/null 2>&1 || fail "not a git checkout: the build context is taken from git's tracked and unignored files"

# ---------------------------------------------------------------- read the Dockerfile
# One instruction per line: comments dropped, backslash continuations joined.
mapfile -t instructions < <(grep -v '^[[:space:]]*#' Dockerfile | awk '{ if (sub(/\\[[:space:]]*$/, "")) { buf = buf $0 " "; next } print buf $0; buf = "" }' | sed -E 's/^[[:space:]]+//; s/[[:space:]]+/ /g' | grep -v '^$')

# A JSON-array (exec form) argument list -> one word per line. Plain quoted words only.
json_words() { sed -E 's/^[[:space:]]*\[//; s/\][[:space:]]*$//' <<<"$1" | tr ',' '\n' | sed -E 's/^[[:space:]]*"//; s/"[[:space:]]*$//'; }

stage=0
build_steps=()
final_workdir="" final_user="" expose="" entrypoint="" healthcheck=""
env_names=() env_values=()
for line in "${instructions[@]}"; do
  keyword=${line%% *}
  rest=${line#* }
  case "${keyword^^}" in
    FROM) stage=$((stage + 1)) ;;
    WORKDIR|COPY|RUN)
      if [ "$stage" -eq 1 ]; then build_steps+=("$line"); fi
      if [ "$stage" -eq 2 ] && [ "${keyword^^}" = WORKDIR ]; then final_workdir=$rest; fi ;;
    ENV)
      [ "$stage" -eq 2 ] || fail "ENV outside the final stage is not handled: $line"
      case "$rest" in *\"*|*\'*) fail "quoted ENV values are not handled: $line" ;; esac
      for pair in $rest; do
        [[ "$pair" == *=* ]] || fail "ENV must use NAME=value: $line"
        env_names+=("${pair%%=*}"); env_values+=("${pair#*=}")
      done ;;
    USER) final_user=$rest ;;
    EXPOSE) expose=$rest ;;
    HEALTHCHECK) healthcheck=${rest#* CMD } ;;
    ENTRYPOINT) entrypoint=$rest ;;
  esac
done
[ "$stage" -eq 2 ] || fail "expected two stages (build, final); found $stage"
[ -n "$entrypoint" ] || fail "no ENTRYPOINT"
[ -n "$healthcheck" ] || fail "no HEALTHCHECK CMD"
[ "$expose" = 8080 ] || fail "EXPOSE is '$expose', expected 8080"
mapfile -t entry_words < <(json_words "$entrypoint")
mapfile -t health_words < <(json_words "$healthcheck")
say "ENTRYPOINT: ${entry_words[*]}"
say "HEALTHCHECK: ${health_words[*]}"

# ---------------------------------------------------------------- build stage
# Not under /tmp: the read-only run below mounts a fresh /tmp, as the Kubernetes manifest does.
mkdir -p "$repo/artifacts"
work=$(mktemp -d "$repo/artifacts/publish-smoke.XXXXXX")
chmod 755 "$work"
service_pid=""
cleanup() {
  if [ -n "$service_pid" ] && kill -0 "$service_pid" 2>/dev/null; then kill -KILL "$service_pid" 2>/dev/null || true; fi
  if [ "${SMOKE_KEEP:-0}" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# The build context: tracked and unignored files (so no bin/ or obj/), the way .dockerignore trims it.
context="$work/context"
mkdir -p "$context"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] || continue
  mkdir -p "$context/$(dirname "$f")"
  cp -p "$f" "$context/$f"
done

root="$work/root"   # stands for the build stage's file system
mkdir -p "$root"
cwd="$root"
publish_seen=0
for step in "${build_steps[@]}"; do
  keyword=${step%% *}
  rest=${step#* }
  case "${keyword^^}" in
    WORKDIR) cwd="$root$rest"; mkdir -p "$cwd" ;;
    COPY)
      read -r -a parts <<<"$rest"
      dest=${parts[${#parts[@]}-1]}
      [[ "$dest" = /* ]] && target="$root$dest" || target="$cwd/$dest"
      for src in "${parts[@]:0:${#parts[@]}-1}"; do
        [[ "$src" = --* ]] && fail "COPY options are not handled in the build stage: $step"
        if [ -d "$context/$src" ]; then
          mkdir -p "$target"; cp -a "$context/${src%/}/." "$target/"
        else
          [ -e "$context/$src" ] || fail "COPY source missing from the build context: $src"
          if [[ "$dest" = */ ]] || [ "${#parts[@]}" -gt 2 ]; then mkdir -p "$target"; cp -a "$context/$src" "$target/"; else mkdir -p "$(dirname "$target")"; cp -a "$context/$src" "$target"; fi
        fi
      done ;;
    RUN)
      if [[ "$rest" == "dotnet publish "* ]]; then
        [[ "$rest" == *" -o /app" || "$rest" == *" -o /app "* ]] || fail "the publish command does not write to /app: $rest"
        publish_seen=1
      fi
      # /app is the one absolute path the build stage may name; it maps to the temporary publish folder.
      command=${rest// \/app/ $root\/app}
      if grep -qE '(^| )/' <<<"${command// $root/ ROOT}"; then fail "RUN uses an absolute path this script cannot map: $rest"; fi
      say "RUN $command"
      (cd "$cwd" && bash -c "$command") || fail "RUN failed: $rest"
      ;;
  esac
done
[ "$publish_seen" = 1 ] || fail "no 'RUN dotnet publish' in the build stage"
app="$root/app"
[ -f "$app/${entry_words[1]}" ] || fail "the entrypoint's ${entry_words[1]} is not in the publish output"
for model in all-MiniLM-L6-v2 snowflake-arctic-embed-xs; do
  [ -s "$app/models/$model/model.onnx" ] && [ -s "$app/models/$model/vocab.txt" ] || fail "models/$model is incomplete in the publish output"
done
say "published: $(du -sh "$app" | cut -f1) in $app"

# ---------------------------------------------------------------- final stage
if [ -n "${SMOKE_PORT:-}" ]; then
  port=$SMOKE_PORT
else
  port=18080
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
fi

# What mcr.microsoft.com/dotnet/aspnet sets (its runtime-deps base), then the Dockerfile's ENV in order; nothing from this shell.
run_env=(PATH="$PATH" HOME="$work/home" APP_UID=1654 ASPNETCORE_HTTP_PORTS=8080 DOTNET_RUNNING_IN_CONTAINER=true)
[ -n "${DOTNET_ROOT:-}" ] && run_env+=(DOTNET_ROOT="$DOTNET_ROOT")
urls=""
for i in "${!env_names[@]}"; do
  value=${env_values[$i]}
  if [ "${env_names[$i]}" = Urls ]; then
    urls=$value
    [[ "$value" == *:8080 ]] || fail "ENV Urls ($value) does not end in :8080 like EXPOSE"
    value=${value%:8080}:$port
  fi
  run_env+=("${env_names[$i]}=$value")
done
[ -n "$urls" ] || fail "the final stage sets no Urls (appsettings.json's Urls outranks ASPNETCORE_URLS)"
mkdir -p "$work/home"

# USER $APP_UID: run as that UID when we can (root with setpriv); the published folder stays root-owned and read-only to it.
as_user=()
if [ "$final_user" = '$APP_UID' ] || [ "$final_user" = '${APP_UID}' ]; then
  if [ "$(id -u)" = 0 ] && [ "${SMOKE_AS_ROOT:-0}" != 1 ] && command -v setpriv >/dev/null; then
    chown 1654:1654 "$work/home"
    chmod -R a+rX "$root"
    as_user=(setpriv --reuid=1654 --regid=1654 --clear-groups)
    say "running as UID 1654 (USER \$APP_UID)"
  else
    say "running as $(id -un): cannot switch to UID 1654 here"
  fi
else
  fail "the final stage's USER is '$final_user', expected \$APP_UID"
fi

# readOnlyRootFilesystem (deploy/kubernetes) and read_only (compose): when this runs as root and may create a mount
# namespace, the service sees /, its own folder and HOME read-only and only a fresh /tmp writable.
launcher=()
in_namespace=()
if [ "${SMOKE_READ_ONLY:-1}" = 1 ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && unshare -m true 2>/dev/null; then
  # The fresh tmpfs goes on /tmp, as in the manifests, unless this checkout itself lives under /tmp (a tmpfs there
  # would hide the published folder): then it goes on a folder of its own, and TMPDIR points the service at it.
  case "$work/" in
    /tmp/*) scratch="$work/tmp"; mkdir -p "$scratch" ;;
    *) scratch=/tmp ;;
  esac
  cat >"$work/read-only.sh" <<'READONLY'
set -e
app=$1 home=$2 scratch=$3
shift 3
mount --make-rprivate /
for dir in / "$app" "$home"; do
  mountpoint -q "$dir" || mount --bind "$dir" "$dir"
  mount -o remount,bind,ro "$dir"
done
mount -t tmpfs -o size=256m,mode=1777 tmpfs "$scratch"  # the Kubernetes emptyDir sizeLimit
[ "$scratch" = /tmp ] || export TMPDIR="$scratch"
if touch "$app/.write-probe" 2>/dev/null || touch /.write-probe 2>/dev/null; then echo "read-only set-up failed" >&2; exit 97; fi
exec "$@"
READONLY
  launcher=(unshare -m --propagation private bash "$work/read-only.sh" "$app" "$work/home" "$scratch")
  say "read-only root file system: /, $app and HOME read-only, tmpfs on $scratch"
else
  say "read-only root file system: not checked (needs root and unshare; SMOKE_READ_ONLY=${SMOKE_READ_ONLY:-1})"
fi

log="$work/service.log"
# The image's environment plus the int8 variant of the default model, as a user enabling it would add it (README, int8
# variants): the publish must carry a working int8 folder too.
run_env+=(Models__Items__2__Id=all-MiniLM-L6-v2-int8 Models__Items__2__Path=models/all-MiniLM-L6-v2-int8)
say "starting on port $port: ${entry_words[*]} (cwd $final_workdir -> $app), with all-MiniLM-L6-v2-int8 added"
(cd "$app" && exec env -i "${run_env[@]}" "${launcher[@]}" "${as_user[@]}" "${entry_words[@]}") >"$log" 2>&1 &
service_pid=$!
[ "${#launcher[@]}" -gt 0 ] && in_namespace=(nsenter -t "$service_pid" -m)

deadline=$((SECONDS + ${SMOKE_TIMEOUT_S:-120}))
status=""
until [ "$status" = 200 ]; do
  kill -0 "$service_pid" 2>/dev/null || { cat "$log" >&2; fail "the service exited before it was ready"; }
  [ "$SECONDS" -lt "$deadline" ] || { tail -n 40 "$log" >&2; fail "GET /health never answered 200 (last: '$status')"; }
  sleep 0.5
  status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health" || true)
done
say "GET /health -> 200 after ${SECONDS}s of script time"
live=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health/live")
[ "$live" = 200 ] || fail "GET /health/live -> $live"

body=$(curl -s -f -H 'Content-Type: application/json' -d '{"inputs":"The image carries its models."}' "http://127.0.0.1:$port/embed") || fail "POST /embed failed"
[[ "$body" == '[['*']]' ]] || fail "POST /embed did not return one vector: ${body:0:200}"
inner=${body:2:${#body}-4}
[[ "$inner" != *[][]* ]] || fail "POST /embed returned more than one vector"
dims=$(( $(tr -cd ',' <<<"$inner" | wc -c) + 1 ))
[ "$dims" = 384 ] || fail "POST /embed returned $dims dimensions, expected 384"
say "POST /embed -> 1 vector of $dims dimensions"
# The same text again: the published configuration caches pooled vectors (Cache:MaxBytes, 64 MiB by default).
hits=$(curl -s -f -o /dev/null -D - -H 'Content-Type: application/json' -d '{"inputs":"The image carries its models."}' "http://127.0.0.1:$port/embed" \
  | tr -d '\r' | awk -F': ' 'tolower($1) == "x-cache-hits" { print $2 }') || fail "POST /embed (again) failed"
[ "$hits" = 1 ] || fail "POST /embed of the same text again answered x-cache-hits '$hits', expected 1"
say "POST /embed of the same text again -> x-cache-hits: 1"
# The publish prepared every built-in model's graph (tools/ModelPreparer), the int8 variants' too, and the service used
# them instead of optimizing the models at start-up.
prepared=$(grep -c '"GraphOrigin":"prepared at build time"' "$log" || true)
[ "$prepared" -ge 3 ] || { grep -i 'graph' "$log" >&2; fail "expected the three models on their prepared graphs, found $prepared"; }
say "the three models loaded from the graphs prepared at publish time"
# The int8 variant the publish quantized from the shipped fp32 model answers too.
int8=$(curl -s -f -H 'Content-Type: application/json' -d '{"inputs":"int8 in the image","model":"all-MiniLM-L6-v2-int8"}' "http://127.0.0.1:$port/embed") || fail "POST /embed on the int8 model failed"
[[ "$int8" == '[['*']]' ]] || fail "POST /embed on the int8 model did not return one vector: ${int8:0:200}"
say "POST /embed on all-MiniLM-L6-v2-int8 -> 1 vector"

metrics=$(curl -s -f "http://127.0.0.1:$port/metrics") || fail "GET /metrics failed"
# One host per process, as deployed: ASP.NET Core's request metric (by route and status) and ours are both exported.
for name in 'http_server_request_duration_seconds_count{[^}]*http_response_status_code="200",http_route="/embed"' \
            'embedding_inputs_total' 'embedding_batch_size_bucket' 'embedding_queue_inputs' 'embedding_queue_drain_seconds' \
            'embedding_cache_hits_total' 'embedding_cache_bytes'; do
  grep -Eq "$name" <<<"$metrics" || fail "GET /metrics lacks $name"
done
say "GET /metrics -> request, batch, queue and cache metrics exported"

# The HEALTHCHECK command, as the container runtime would run it (same user, environment and folder).
health_cmd=("${health_words[@]}")
[ "$port" = 8080 ] || health_cmd+=("http://127.0.0.1:$port/health")
set +e
probe_out=$("${in_namespace[@]}" bash -c 'cd "$0" && exec "$@"' "$app" env -i "${run_env[@]}" "${as_user[@]}" "${health_cmd[@]}" 2>&1); probe_rc=$?
set -e
[ "$probe_rc" = 0 ] || fail "HEALTHCHECK '${health_cmd[*]}' exited $probe_rc: $probe_out"
say "HEALTHCHECK '${health_cmd[*]}' -> exit 0 ($probe_out)"
set +e
closed_out=$("${in_namespace[@]}" bash -c 'cd "$0" && exec "$@"' "$app" env -i "${run_env[@]}" "${as_user[@]}" "${health_words[@]}" "http://127.0.0.1:1/health" 2>&1); closed_rc=$?
set -e
[ "$closed_rc" = 1 ] || fail "the health check against a closed port exited $closed_rc, expected 1: $closed_out"

rss_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$service_pid/status" 2>/dev/null || echo 0)
say "service RSS after warm-up and one request: $((rss_kb / 1024)) MiB"

grep -q '"@l":"Error"\|"@l":"Fatal"' "$log" && { cat "$log" >&2; fail "the service logged errors"; }

# Another copy of the service in the foreground, with the same entrypoint and environment plus the NAME=value pairs
# given: its output in copy_out, its exit code in copy_rc.
run_copy() {
  set +e
  copy_out=$(cd "$app" && env -i "${run_env[@]}" "$@" "${as_user[@]}" "${entry_words[@]}" 2>&1); copy_rc=$?
  set -e
}

# A second copy on the same port cannot start: it must say why and exit 1, not abort (134) on an unhandled exception.
run_copy
[ "$copy_rc" = 1 ] || fail "a second copy on port $port exited $copy_rc, expected 1: $(tail -n 5 <<<"$copy_out")"
grep -q "EmbeddingService did not start: .*address already in use" <<<"$copy_out" || fail "a second copy on port $port did not say why it stopped: $(tail -n 5 <<<"$copy_out")"
say "a second copy on port $port -> exit 1: $(grep -o 'EmbeddingService did not start: .*' <<<"$copy_out" | head -n 1)"

# A model folder that is not there: the service logs why and stops itself with exit code 1.
run_copy Urls=http://127.0.0.1:0 Models__Items__0__Path=models/not-there
[ "$copy_rc" = 1 ] || fail "with a missing model folder the service exited $copy_rc, expected 1: $(tail -n 5 <<<"$copy_out")"
say "a missing model folder -> exit 1"

# A cache bound the process could never hold: refused at start-up, naming the key.
run_copy Urls=http://127.0.0.1:0 Cache__MaxBytes=-1
[ "$copy_rc" = 1 ] || fail "with Cache__MaxBytes=-1 the service exited $copy_rc, expected 1: $(tail -n 5 <<<"$copy_out")"
grep -q "EmbeddingService did not start: .*Cache:MaxBytes" <<<"$copy_out" || fail "with Cache__MaxBytes=-1 the service did not name the key: $(tail -n 5 <<<"$copy_out")"
say "Cache__MaxBytes=-1 -> exit 1: $(grep -o 'EmbeddingService did not start: .*' <<<"$copy_out" | head -n 1)"

# docker stop sends SIGTERM: the host drains and exits 0.
kill -TERM "$service_pid"
stop_deadline=$((SECONDS + 30))
while kill -0 "$service_pid" 2>/dev/null; do
  [ "$SECONDS" -lt "$stop_deadline" ] || fail "the service did not stop within 30 s of SIGTERM"
  sleep 0.2
done
set +e
wait "$service_pid"; exit_code=$?
set -e
service_pid=""
[ "$exit_code" = 0 ] || { tail -n 40 "$log" >&2; fail "the service exited $exit_code after SIGTERM"; }
say "SIGTERM -> clean exit"
say "OK"
