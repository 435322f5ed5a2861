# Shared by ci/test and ci/book; sourced, not run. Everything the two commands
# need that a fresh machine with only the Rust toolchain lacks is installed here,
# once, and reused on later runs.

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MDBOOK_VERSION=0.5.4
TOOLS="$REPO/.tools"          # git-ignored; `rm -rf .tools` forces a reinstall
MDBOOK="$TOOLS/bin/mdbook"

say() {
    if [[ -t 2 ]]; then printf '\033[1m%s\033[0m\n' "$*" >&2; else printf '%s\n' "$*" >&2; fi
}

# mdbook, pinned. Built from source with cargo: no prebuilt download.
ensure_mdbook() {
    if [[ -x $MDBOOK && "$("$MDBOOK" --version 2>/dev/null)" == "mdbook v$MDBOOK_VERSION" ]]; then
        return
    fi
    say "ci: installing mdbook $MDBOOK_VERSION into .tools/ (only the first time; about 2 minutes)"
    cargo install mdbook --locked --version "$MDBOOK_VERSION" --root "$TOOLS" --quiet
}

# Installs Debian package $2 with apt-get unless command $1 exists (as root,
# or with passwordless sudo).
ensure_package() {
    local command=$1 package=$2
    if command -v "$command" >/dev/null; then
        return
    fi
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        if sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            say "ci: no $command and no root to install it: install Debian's '$package' package"
            return 1
        fi
    fi
    say "ci: installing $package with apt-get (only the first time)"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$package" >/dev/null
}

# A Chromium for the browser check: $CHROME, one already on PATH, or Debian's.
ensure_chromium() {
    local candidate
    for candidate in ${CHROME:-} chromium-browser google-chrome google-chrome-stable; do
        if command -v "$candidate" >/dev/null; then
            return
        fi
    done
    ensure_package chromium chromium
}

# strace and taskset, which chapter 14's benchmark (and its test) run.
ensure_bench_tools() {
    ensure_package strace strace && ensure_package taskset util-linux
}

# Builds the book into book/book. mdBook logs a missing include or broken HTML
# as a warning and still succeeds; here any warning or error fails the build.
build_book() {
    ensure_mdbook
    local log
    log=$(mktemp)
    if ! "$MDBOOK" build "$REPO/book" 2>&1 | tee "$log" >&2; then
        rm -f "$log"
        return 1
    fi
    if grep -Eq '(WARN|ERROR)' "$log"; then
        say "ci: mdbook printed warnings or errors (above); they mean a broken page"
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
}
