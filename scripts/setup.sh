#!/usr/bin/env bash
# Installs what a fresh machine lacks to build, test and run Wider, then the
# workspace's dependencies. Idempotent: safe to run before every command.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=10.34.8

# Debian packages the test suite reads (real data: Fashion-MNIST) and uses (Chromium renders
# the reference app's report.html headless in its tests; the distributed tests start their own
# redis-server on a free loopback port and stop it).
apt_needed=()
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || apt_needed+=(dataset-fashion-mnist)
[ -x /usr/bin/chromium ] || apt_needed+=(chromium)
[ -x /usr/bin/redis-server ] || apt_needed+=(redis-server)
if ((${#apt_needed[@]})); then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages: ${apt_needed[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${apt_needed[@]}" >/dev/null
  else
    echo "setup: missing Debian packages (${apt_needed[*]}); install them with apt-get as root," \
      "the tests that need them will say so" >&2
  fi
fi

if ! command -v pnpm >/dev/null || [ "$(pnpm --version)" != "$PNPM_VERSION" ]; then
  echo "setup: installing pnpm@$PNPM_VERSION" >&2
  npm install -g --silent "pnpm@$PNPM_VERSION" >/dev/null
  hash -r
fi

pnpm install --frozen-lockfile --reporter=append-only >/dev/null
