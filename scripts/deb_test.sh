#!/usr/bin/env bash
# The Debian packages as a user gets them: cpack -G DEB in a build directory,
# dpkg -i the three packages (apt-get -f install for what they depend on), then
# from the installed files: espsec --version, espsec demo, the man pages, and a
# program built with pkg-config against libespsec-dev that signs and verifies
# an image. Everything installed is purged again on exit, so no other test can
# pick up a system espsec. Needs root; refuses when espsec is already installed.
# Usage: scripts/deb_test.sh BUILD_DIR   (a Release build)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:?usage: deb_test.sh BUILD_DIR}" && pwd)
PKGS=(espsec libespsec0 libespsec-dev)
[ "$(id -u)" -eq 0 ] || { echo "deb_test: needs root (dpkg -i)"; exit 1; }
for p in "${PKGS[@]}"; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        echo "deb_test: $p is already installed on this system; not touching it"
        exit 1
    fi
done

(cd "$B" && rm -f ./*.deb && cpack -G DEB >"$B/cpack.log" 2>&1) || { cat "$B/cpack.log"; exit 1; }
debs=()
for p in "${PKGS[@]}"; do
    f=$(ls "$B/${p}"_*.deb)
    debs+=("$f")
    echo "deb_test: $(basename "$f"): Depends: $(dpkg-deb -f "$f" Depends)"
done

T=$(mktemp -d)
cleanup() {
    dpkg --purge "${PKGS[@]}" >/dev/null 2>&1 || true
    rm -rf "$T"
}
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
dpkg -i "${debs[@]}" >"$T/dpkg.log" 2>&1 || apt-get -f install -y -qq >>"$T/dpkg.log" 2>&1 ||
    { cat "$T/dpkg.log"; echo "deb_test: FAIL: dpkg -i / apt-get -f install"; exit 1; }
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" | grep -q "install ok installed" || { cat "$T/dpkg.log"; echo "deb_test: FAIL: $p not installed"; exit 1; }
done
echo "deb_test: installed ${PKGS[*]}"

/usr/bin/espsec --version
/usr/bin/espsec demo --dir "$T/demo" >"$T/demo.log" 2>&1 || { cat "$T/demo.log"; echo "deb_test: FAIL: espsec demo"; exit 1; }
echo "deb_test: /usr/bin/espsec demo exits 0 ($(wc -l <"$T/demo.log") lines)"
for page in espsec espsec-secure espsec-efuse; do
    [ -f "/usr/share/man/man1/$page.1" ] || { echo "deb_test: FAIL: man page $page(1) not installed"; exit 1; }
done
[ -f /usr/share/bash-completion/completions/espsec ] || { echo "deb_test: FAIL: bash completion not installed"; exit 1; }

cc -std=c11 -Wall -Wextra -Werror -o "$T/consumer" "$ROOT/tests/pkg/consumer.c" $(pkg-config --cflags --libs espsec)
"$T/consumer" >"$T/consumer.log" || { cat "$T/consumer.log"; echo "deb_test: FAIL: consumer"; exit 1; }
grep -q '^consumer: OK$' "$T/consumer.log" || { cat "$T/consumer.log"; exit 1; }
ldd "$T/consumer" >"$T/ldd"
grep -qE 'libespsec.so.0 => (/usr)?/lib/libespsec.so.0 ' "$T/ldd" || { cat "$T/ldd"; echo "deb_test: FAIL: consumer does not use the packaged libespsec.so.0"; exit 1; }
echo "deb_test: a pkg-config consumer of libespsec-dev signs and verifies"

dpkg --purge "${PKGS[@]}" >/dev/null
[ ! -e /usr/bin/espsec ] && [ ! -e /usr/include/espsec ] && [ ! -e /usr/lib/libespsec.so.0 ] ||
    { echo "deb_test: FAIL: files left after dpkg --purge"; exit 1; }
echo "deb_test: purged; all passed"
