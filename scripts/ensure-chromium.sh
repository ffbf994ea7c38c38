#!/usr/bin/env bash
# Make sure headless Chromium and its chromedriver are installed for the browser
# test (tests/test_html_report.py). Installs the Debian packages `chromium` and
# `chromium-driver` with apt when either is missing; does nothing when both are
# there. Safe to run any number of times.
#
# Without root (and without passwordless sudo) it cannot install: it says so and
# exits 0, and the browser test is skipped with the reason — except under CI=true,
# where the test is mandatory, so this exits 1 instead.
set -euo pipefail

say() { echo "ensure-chromium: $*"; }

find_first() {
    local name
    for name in "$@"; do
        if command -v "$name" >/dev/null 2>&1; then
            command -v "$name"
            return 0
        fi
    done
    return 1
}

browser=$(find_first chromium chromium-browser google-chrome google-chrome-stable || true)
driver=$(find_first chromedriver || true)
if [[ -n "$browser" && -n "$driver" ]]; then
    say "found $browser and $driver; nothing to install."
    exit 0
fi

missing=()
[[ -z "$browser" ]] && missing+=(chromium)
[[ -z "$driver" ]] && missing+=(chromium-driver)
say "missing: ${missing[*]}."

in_ci=false
case "${CI:-}" in 1 | true | TRUE | True | yes) in_ci=true ;; esac

cannot_install() {
    say "$1"
    if $in_ci; then
        say "CI=true: the browser test is mandatory; failing."
        exit 1
    fi
    say "the headless-browser test will be skipped. To install by hand:"
    say "  sudo apt-get update && sudo apt-get install -y chromium chromium-driver"
    exit 0
}

if ! command -v apt-get >/dev/null 2>&1; then
    cannot_install "apt-get is not available on this system (not Debian/Ubuntu)."
fi

if [[ $(id -u) -eq 0 ]]; then
    as_root=()  # already root
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    cannot_install "installing needs root (or passwordless sudo)."
fi

# Both packages together: chromium-driver must match the browser's version.
# `env` after sudo: sudo would drop a DEBIAN_FRONTEND set in front of it.
run() {
    say "running: $*"
    "$@"
}
run ${as_root[@]+"${as_root[@]}"} apt-get update -qq
run ${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq chromium chromium-driver

browser=$(find_first chromium chromium-browser || true)
driver=$(find_first chromedriver || true)
if [[ -z "$browser" || -z "$driver" ]]; then
    say "apt-get finished but chromium/chromedriver are still not on PATH."
    exit 1
fi
say "installed: $("$browser" --version 2>/dev/null | head -n1) and $("$driver" --version | head -n1)."
