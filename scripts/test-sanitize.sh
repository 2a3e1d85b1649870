#!/usr/bin/env bash
# Runs tests against an AddressSanitizer + UndefinedBehaviorSanitizer build of the addon, and fails on
# any sanitizer report in their output.
#
#   scripts/test-sanitize.sh                  # the addon-heavy test files (what CI runs, see ADDON_TESTS)
#   scripts/test-sanitize.sh --all            # the whole suite (npm run test:sanitize -- --all)
#   scripts/test-sanitize.sh socket.basic     # the named test files (test/NAME.test.ts)
#
# The sanitized addon is built in a copy of the checkout under $TMPDIR (sources, tests and docs; the
# node_modules of this checkout linked in), so build/ and dist/ here are left as they are. Node itself
# is not instrumented: libasan is preloaded (LD_PRELOAD, so it comes first, as ASan requires) into node
# and every process the tests start. Leak detection is off: Node does not free everything at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# The files that put the addon to work: every native entry point, the waiter threads, fd watches,
# shared memory, queues, sockets and signals. Left out of the default run: the CLI, the docs snippets,
# the consumer-types fixture, the conformance suite over every transport and the faults/interop runs,
# which spend their time in tsc, child processes and peers more than in the addon, and mutex.robust,
# whose owners SIGKILLed one after the other are Node starts at ~2.5 s each under ASan (node
# --test on Node 20 cannot skip one test by name). They run with --all.
ADDON_TESTS=(
  native.review.signal native.review.socket native.review.sysv native.review.waiter
  waiter.threads errors.lifetime api.lifetime
  message-queue.posix message-queue.sysv
  pipe.anonymous pipe.fifo pipe.framing
  shared-memory.posix shared-memory.sysv shared-memory.futex
  semaphore.posix semaphore.sysv semaphore.shm
  socket.basic socket.fds
  signal.send signal.watch signal.exited
  ring.logic shm.server channel.api fuzz.ring process.watch
)

all=
files=()
for a in "$@"; do
  case "$a" in
    (--all) all=1;;
    (-h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0;;
    (-*) echo "test-sanitize: unknown option $a" >&2; exit 2;;
    (*) a=${a#test/}; a=${a%.ts}; a=${a%.test}; files+=("$a");;
  esac
done
[ ${#files[@]} -gt 0 ] || [ -n "$all" ] || files=("${ADDON_TESTS[@]}")

# node-gyp: on PATH under `npm run`, else the one npm bundles.
if command -v node-gyp >/dev/null; then gyp=(node-gyp)
else gyp=(node "$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js")
fi
# The headers npm builds against (npm's nodedir, as `npm ci` uses), when npm names them.
nodedir=${npm_config_nodedir:-$(npm config get nodedir 2>/dev/null || true)}
case "$nodedir" in (''|undefined|null) ;; (*) gyp+=("--nodedir=$nodedir");; esac
libasan=$(g++ -print-file-name=libasan.so)
[ -e "$libasan" ] || { echo "test-sanitize: libasan.so not found (g++ -print-file-name=libasan.so); install g++" >&2; exit 1; }

start=$(date +%s)
work=$(mktemp -d "${TMPDIR:-/tmp}/ipckit-asan.XXXXXX")
trap 'rm -rf "$work"' EXIT
tar -c --exclude=./node_modules --exclude=./build --exclude=./dist --exclude=./.git --exclude=./bench/out . | tar -x -C "$work"
ln -s "$root/node_modules" "$work/node_modules"

san='-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1'
echo "test-sanitize: building the addon with $san" >&2
(cd "$work" && CFLAGS="$san" CXXFLAGS="$san" LDFLAGS="-fsanitize=address,undefined" \
  timeout 900 "${gyp[@]}" rebuild -j 2 --loglevel=warn >"$work/build.log" 2>&1) || {
  tail -40 "$work/build.log" >&2; echo "test-sanitize: the sanitized build failed" >&2; exit 1; }
# The sanitized addon must be the one that loads, and it must really be instrumented.
nm -D "$work/build/Release/ipckit.node" | grep __asan_ >/dev/null || { echo "test-sanitize: the addon is not instrumented" >&2; exit 1; }
# Type errors are npm test's to report; what tsc emitted still runs here.
(cd "$work" && "$root/node_modules/.bin/tsc" -p tsconfig.json >"$work/tsc.log" 2>&1) ||
  echo "test-sanitize: tsc reported type errors (npm test fails on them); running what it emitted: $(head -1 "$work/tsc.log")" >&2
echo "test-sanitize: built in $(( $(date +%s) - start )) s" >&2

if [ -n "$all" ]; then
  tests=("$work"/dist/test/*.test.js)
else
  tests=()
  for f in "${files[@]}"; do
    [ -e "$work/dist/test/$f.test.js" ] || { echo "test-sanitize: no test file test/$f.test.ts" >&2; exit 2; }
    tests+=("$work/dist/test/$f.test.js")
  done
fi

log=$work/test.log
t1=$(date +%s)
# Every process of this run carries a marker in its environment. A sanitizer report aborts the test
# process it happens in (halt_on_error), and the peers that process started (a nats-server, a C or
# Python peer, a child node) live on: they hold the runner's pipes, so it would wait for them forever.
# Such orphans (marked, with a parent that is not) are killed by pid as soon as they appear.
mark="ipckit-sanitize-$$-$start"
marked() { tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null | grep -qx "IPCKIT_SANITIZE_RUN=$mark"; }
reap() { # reap RUNNER [all]: kill marked orphans (all marked processes but RUNNER with "all")
  local d pid ppid
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    [ "$pid" != "$1" ] && marked "$pid" || continue
    if [ "${2:-}" != all ]; then
      ppid=$(awk '/^PPid:/ { print $2 }' "$d/status" 2>/dev/null) || continue
      ! marked "$ppid" || continue
    fi
    echo "test-sanitize: killing pid $pid, left behind by a test process: $(tr '\0' ' ' <"$d/cmdline" 2>/dev/null | cut -c1-100)" >&2
    kill -KILL "$pid" 2>/dev/null || true
  done
}
(cd "$work" && exec env IPCKIT_SANITIZE_RUN="$mark" LD_PRELOAD="$libasan" \
  ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:detect_odr_violation=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" \
  node --test --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=./dist/test/helpers/skip-summary.js --test-reporter-destination=stdout \
    "${tests[@]}") >"$log" 2>&1 &
runner=$!
tail -n +1 -f --pid="$runner" "$log" &
while kill -0 "$runner" 2>/dev/null; do
  sleep 2
  reap "$runner"
done
set +e
wait "$runner"
rc=$?
set -e
wait # tail
reap "$runner" all
reports=$(grep -acE 'ERROR: AddressSanitizer|runtime error:' "$log" || true)
echo "test-sanitize: ${#tests[@]} test file(s) in $(( $(date +%s) - t1 )) s (total $(( $(date +%s) - start )) s), exit $rc, $reports sanitizer report(s)" >&2
if [ "$reports" -gt 0 ]; then
  echo "test-sanitize: SANITIZER REPORTS:" >&2
  grep -anE -A12 'ERROR: AddressSanitizer|runtime error:' "$log" | head -120 >&2
  exit 1
fi
exit "$rc"
