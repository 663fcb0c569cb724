# shellcheck shell=bash
# Shared by scripts/up and scripts/test: machine prerequisites, npm dependencies, Prisma client.
# Source it from the repository root:  source scripts/lib/common.sh
#
# Every step is a no-op when its result is already there, so both commands are cheap to re-run.

if [[ -t 2 ]]; then _c_b=$'\033[1m'; _c_r=$'\033[31m'; _c_y=$'\033[33m'; _c_0=$'\033[0m'; else _c_b=; _c_r=; _c_y=; _c_0=; fi
commy_log() { printf '%s[commy]%s %s\n' "$_c_b" "$_c_0" "$*" >&2; }
commy_warn() { printf '%s[commy] %s%s\n' "$_c_y" "$*" "$_c_0" >&2; }
commy_die() { printf '%s[commy] error:%s %s\n' "$_c_r" "$_c_0" "$*" >&2; exit 1; }

export NEXT_TELEMETRY_DISABLED=1
export CHECKPOINT_DISABLE=1
export PRISMA_HIDE_UPDATE_MESSAGE=1

# Node.js itself is the one prerequisite we do not install (pick your own distribution of it).
commy_require_node() {
  command -v node >/dev/null 2>&1 || commy_die "Node.js >= 20.19 is required (https://nodejs.org or your distribution), then re-run."
  command -v npm >/dev/null 2>&1 || commy_die "npm is required (it ships with Node.js)."
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
    || commy_die "Node.js >= 20.19 is required (found $(node --version))."
}

_commy_have_postgres() {
  [[ -n "${PG_BIN:-}" && -x "${PG_BIN}/postgres" ]] && return 0
  compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null && return 0
  command -v postgres >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1
}

# commy_ensure_system_packages WHAT...   WHAT: postgres redis chromium build
# Installs the missing ones with apt-get when we are root; otherwise says what to install.
commy_ensure_system_packages() {
  local missing=() what
  for what in "$@"; do
    case "$what" in
      postgres) _commy_have_postgres || missing+=(postgresql) ;;
      redis) command -v redis-server >/dev/null 2>&1 || missing+=(redis-server) ;;
      chromium) [[ -x /usr/bin/chromium ]] || missing+=(chromium) ;;
      build) # node-gyp builds the native module during `npm ci`
        command -v make >/dev/null 2>&1 || missing+=(make)
        command -v g++ >/dev/null 2>&1 || missing+=(g++)
        command -v python3 >/dev/null 2>&1 || missing+=(python3) ;;
    esac
  done
  # initdb refuses root: as root, PostgreSQL runs as the postgres user, which Debian's package creates.
  if [[ " $* " == *" postgres "* && $EUID -eq 0 && " ${missing[*]} " != *" postgresql "* ]] && ! id -u postgres >/dev/null 2>&1; then
    missing+=(postgresql)
  fi
  ((${#missing[@]} == 0)) && return 0

  if [[ $EUID -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    commy_die "missing system packages: ${missing[*]}
  install them, e.g.:  sudo apt-get update && sudo apt-get install -y ${missing[*]}
  then re-run $0"
  fi
  commy_log "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Wait (rather than fail) when another apt/dpkg run holds the lock.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  commy_log "installed: ${missing[*]}"
}

# npm dependencies: `npm ci` when node_modules is missing or older than package-lock.json
# (npm writes node_modules/.package-lock.json at the end of every install).
commy_ensure_node_modules() {
  local stale=0
  if [[ ! -f node_modules/.package-lock.json || -f node_modules/.commy-install-failed ]]; then
    stale=1
  elif node -e '
      const fs = require("fs");
      const lock = fs.statSync("package-lock.json").mtimeMs;
      const installed = fs.statSync("node_modules/.package-lock.json").mtimeMs;
      process.exit(lock - installed > 2000 ? 0 : 1)'; then
    stale=1
  fi
  if ((stale)); then
    commy_log "installing npm dependencies (npm ci)"
    if ! npm ci --no-audit --no-fund --loglevel=error; then
      # npm leaves a complete-looking node_modules behind when a lifecycle script fails.
      [[ -d node_modules ]] && : >node_modules/.commy-install-failed
      commy_die "npm ci failed (see above)"
    fi
    rm -f node_modules/.commy-install-failed
  fi
}

# The generated Prisma client (git-ignored) must match prisma/schema.prisma: regenerate when
# the schema changed since the last generate (the client keeps a copy of the schema it was made from).
commy_ensure_prisma_client() {
  if ! cmp -s prisma/schema.prisma src/generated/prisma/schema.prisma 2>/dev/null; then
    commy_log "generating the Prisma client"
    local out
    out=$(node node_modules/prisma/build/index.js generate 2>&1) || { printf '%s\n' "$out" >&2; commy_die "prisma generate failed"; }
  fi
}
