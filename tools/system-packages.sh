#!/usr/bin/env bash
# The Debian packages fundtrail's suite and demo need, installed when missing (idempotent).
# Used by `make setup` (so `make test` and `make demo` are the whole set-up) and by `.ci/run`.
# Not root and something missing: say what and carry on (the tests that need it skip or fail
# with the package's name).
set -euo pipefail

need=(postgresql chromium chromium-driver poppler-utils openjdk-17-jre-headless
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
      graphviz nodejs npm wrk)
command -v dpkg >/dev/null || { echo "system-packages: not a Debian system; install: ${need[*]}"; exit 0; }
missing=()
for p in "${need[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# a machine image may ship node/npm/java outside dpkg: do not fight it
keep=()
for p in "${missing[@]}"; do
  case "$p" in
    nodejs|npm) command -v node >/dev/null && command -v npm >/dev/null && continue ;;
    openjdk-17-jre-headless) command -v java >/dev/null && continue ;;
  esac
  keep+=("$p")
done
[ ${#keep[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO=sudo
  else echo "system-packages: missing ${keep[*]} (run 'make setup' as root, or install them)"; exit 0; fi
else SUDO=""; fi
echo "system-packages: installing ${keep[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${keep[@]}"
