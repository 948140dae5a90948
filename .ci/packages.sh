#!/usr/bin/env bash
# What a new user gets from the registry (issue #20): publishes every package with pnpm to a
# throwaway local registry (verdaccio), checks the tarballs it serves (workspace: ranges
# rewritten, metadata, source maps, publint, attw), then installs them into a fresh app outside
# the repository with npm and again with pnpm, type-checks it under strict, and runs its vitest
# suite per ORM (Drizzle, Knex, Prisma) on PostgreSQL and MariaDB through the sandbox; in the
# npm app, runs the published `init` in a new app per ORM × database and its first test.
# Needs the packages built (pnpm run build) and both servers up (.ci/databases.sh).
# Settings: SQLSANDBOX_PKG_REGISTRY_PORT (default 4873); SQLSANDBOX_PKG_PG_URL and
# SQLSANDBOX_PKG_MYSQL_URL, the app's databases (default sqlsandbox_pkg_app on each server,
# created when missing); SQLSANDBOX_PKG_KEEP=1 keeps the temp folder after a failure.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
here="$root/scripts/packages"
port="${SQLSANDBOX_PKG_REGISTRY_PORT:-4873}"
registry="http://127.0.0.1:$port/"
pnpm=(npx --yes pnpm@12.4.2)
packages=(core drizzle knex prisma)
started=$SECONDS
work="$(mktemp -d "${TMPDIR:-/tmp}/sqlsandbox-packages.XXXXXX")"
verdaccio_pid=""
case "$work" in "$root"/*)
  echo "packages: TMPDIR ($work) is inside the repository; the app must be outside it" >&2
  rm -rf "$work"
  exit 1
  ;;
esac

stop_registry() {
  [ -n "$verdaccio_pid" ] || return 0
  kill "$verdaccio_pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$verdaccio_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$verdaccio_pid" 2>/dev/null || true
  verdaccio_pid=""
}

finish() {
  local status=$?
  stop_registry
  if [ "$status" -ne 0 ] && [ "${SQLSANDBOX_PKG_KEEP:-}" = 1 ]; then
    echo "packages: failed (exit $status); kept $work"
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap finish EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

step() { echo "== packages: $* ($((SECONDS - started)) s)"; }

# Whether an HTTP server answers at the registry's address (any status), within 2 s.
registry_answers() {
  node -e 'fetch(process.argv[1], { signal: AbortSignal.timeout(2000) }).then(
    () => process.exit(0), () => process.exit(1))' "$registry-/ping"
}

# Runs a command bounded by a time limit, its output in a log shown only when it fails.
quietly() { # seconds, log name, command...
  local limit="$1" log="$work/logs/$2.log"
  shift 2
  if ! timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1; then
    echo "packages: '$*' failed or took over $limit s; its last lines ($log):" >&2
    tail -n 60 "$log" >&2
    return 1
  fi
}

version_of() { node -p "require('$root/packages/$1/package.json').version"; }

mkdir -p "$work/logs"
for name in "${packages[@]}"; do
  if [ ! -f "$root/packages/$name/dist/index.js" ]; then
    echo "packages/$name is not built: run 'npx --yes pnpm@12.4.2 run build' first" >&2
    exit 1
  fi
done

if registry_answers; then
  echo "packages: something already answers at $registry; stop it or set SQLSANDBOX_PKG_REGISTRY_PORT" >&2
  exit 1
fi

step "tools (verdaccio, publint, attw) from scripts/packages/tools into $work"
mkdir -p "$work/tools"
cp "$here/tools/package.json" "$here/tools/package-lock.json" "$work/tools/"
quietly 600 tools npm ci --prefix "$work/tools" --no-audit --no-fund
bin="$work/tools/node_modules/.bin"

step "start a throwaway registry at $registry"
mkdir -p "$work/registry/storage"
# @sqlsandbox/* live only here (never fetched from the public registry); the app gets every
# other package from the public registry itself, so no uplink is needed.
cat >"$work/registry/config.yaml" <<EOF
storage: $work/registry/storage
auth:
  htpasswd:
    file: $work/registry/htpasswd
uplinks: {}
packages:
  '@sqlsandbox/*':
    access: \$all
    publish: \$all
    unpublish: \$all
web:
  enable: false
log: { type: stdout, format: pretty, level: warn }
EOF
node "$work/tools/node_modules/verdaccio/bin/verdaccio" --config "$work/registry/config.yaml" \
  --listen "127.0.0.1:$port" >"$work/logs/verdaccio.log" 2>&1 &
verdaccio_pid=$!
for _ in $(seq 1 60); do
  registry_answers && break
  if ! kill -0 "$verdaccio_pid" 2>/dev/null; then break; fi
  sleep 0.5
done
if ! registry_answers; then
  echo "packages: verdaccio did not answer at $registry within 30 s; its log:" >&2
  cat "$work/logs/verdaccio.log" >&2
  exit 1
fi

step "publish ${packages[*]} with pnpm publish"
# A user config of its own: the registry wants a token to publish, any token.
printf '//127.0.0.1:%s/:_authToken=throwaway\nupdate-notifier=false\n' "$port" >"$work/publish.npmrc"
for name in "${packages[@]}"; do
  (cd "$root/packages/$name" && NPM_CONFIG_USERCONFIG="$work/publish.npmrc" \
    quietly 180 "publish-$name" "${pnpm[@]}" publish --registry "$registry" --no-git-checks)
done

step "check the published tarballs: manifest, files, source maps, publint, attw"
mkdir -p "$work/published"
for name in "${packages[@]}"; do
  spec="@sqlsandbox/$name@$(version_of "$name")"
  quietly 120 "pack-$name" npm pack "$spec" --registry "$registry" \
    "--@sqlsandbox:registry=$registry" --pack-destination "$work/published"
  tarball="$work/published/sqlsandbox-$name-$(version_of "$name").tgz"
  mkdir -p "$work/published/$name"
  tar -xzf "$tarball" -C "$work/published/$name"
  node "$here/check-published.mjs" "$work/published/$name/package" "$root/packages/$name"
  quietly 120 "publint-$name" "$bin/publint" run "$tarball" --strict
  # ESM only by design (the READMEs say so): attw's node10 and require() rows do not apply.
  quietly 120 "attw-$name" "$bin/attw" "$tarball" --profile esm-only --format ascii
  echo "$spec: publint and attw (--profile esm-only) report nothing"
done

# The user's steps, as each package manager takes them.
install_app() { # manager, app dir, specs...
  local manager="$1" app="$2"
  shift 2
  if [ "$manager" = npm ]; then
    # --prefer-online: a version republished here must not come from npm's metadata cache
    (cd "$app" && quietly 600 install-npm npm install --save-dev --prefer-online --no-audit --no-fund "$@")
  else
    # A cache of its own (metadata, verified lockfiles), for the same reason: pnpm remembers a
    # version's integrity by registry URL, and this registry's URL is the same on every run
    # while its tarballs change. pnpm reads --config.cache-dir too late for that, so the
    # cache's root moves (XDG_CACHE_HOME). The content-addressed store stays shared.
    (cd "$app" && export XDG_CACHE_HOME="$work/xdg-cache" &&
      quietly 600 install-pnpm "${pnpm[@]}" add --save-dev "--config.cache-dir=$work/pnpm-cache" "$@")
  fi
}

run_in_app() { # manager, app dir, limit, script
  local manager="$1" app="$2" limit="$3" script="$4"
  if [ "$manager" = npm ]; then
    (cd "$app" && quietly "$limit" "$script-$manager" npm run "$script")
  else
    (cd "$app" && quietly "$limit" "$script-$manager" "${pnpm[@]}" run "$script")
  fi
}

specs=()
for name in "${packages[@]}"; do specs+=("@sqlsandbox/$name@$(version_of "$name")"); done

for manager in npm pnpm; do
  app="$work/app-$manager"
  step "a fresh app in $app: install ${specs[*]} with $manager"
  cp -r "$here/fresh-app" "$app"
  rm -rf "$app/node_modules" "$app/generated"
  printf '@sqlsandbox:registry=%s\n' "$registry" >"$app/.npmrc"
  install_app "$manager" "$app" "${specs[@]}"
  node "$here/check-one-copy.mjs" "$app"

  step "$manager app: prisma generate (offline), tsc under strict"
  # generate needs no schema engine; unset, the CLI would try to download one
  PRISMA_SCHEMA_ENGINE_BINARY=/dev/null CHECKPOINT_DISABLE=1 PRISMA_HIDE_UPDATE_MESSAGE=1 \
    run_in_app "$manager" "$app" 180 generate
  run_in_app "$manager" "$app" 300 typecheck
  node "$here/check-declarations.mjs" "$app"

  step "$manager app: vitest, a suite per ORM on PostgreSQL and MariaDB"
  run_in_app "$manager" "$app" 300 test
  grep -E 'Test Files|Tests ' "$work/logs/test-$manager.log" | sed 's/\x1b\[[0-9;]*m//g'

  if [ "$manager" = npm ]; then
    step "npm app: npx @sqlsandbox/core init in a new app per ORM × database, then its first test"
    quietly 300 init node "$here/check-init.mjs" "$app"
    tail -n 1 "$work/logs/init.log"
  fi
done

step "done: published, checked, installed with npm and pnpm, type-checked and tested"
