#!/usr/bin/env bash
# cmake --install into a temporary prefix, then use the install as a program
# outside this tree would: one consumer built with `pkg-config --cflags --libs
# espsec`, one project with find_package(espsec) (shared and static targets).
# Each makes an image, signs and verifies it through the library.
# Also: every function the public headers declare is exported by
# libespsec.so, and nothing else is (-fvisibility=hidden).
# Environment: BUILD_DIR (the espsec build), TESTS_DIR, CC (the compiler of the build).
set -euo pipefail
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
P=$T/prefix
SRC=$TESTS_DIR/pkg

cmake --install "$BUILD_DIR" --prefix "$P" >"$T/install.log"
for f in bin/espsec include/espsec/secure_boot.h include/espsec/version.h share/man/man1/espsec.1 \
    share/man/man1/espsec-secure.1 share/man/man1/espsec-efuse.1 share/bash-completion/completions/espsec \
    share/fish/vendor_completions.d/espsec.fish; do
    [ -e "$P/$f" ] || { echo "FAIL: $f not installed"; exit 1; }
done
[ -n "$(find "$P/share/zsh" -name _espsec)" ] || { echo "FAIL: zsh completion _espsec not installed"; exit 1; }
LIB=$(dirname "$(find "$P" -name libespsec.so -print -quit)")
[ -n "$LIB" ] && [ -e "$LIB/libespsec.a" ] || { echo "FAIL: libespsec.so / .a not installed"; exit 1; }
[ -f "$LIB/pkgconfig/espsec.pc" ] && [ -f "$LIB/cmake/espsec/espsecConfig.cmake" ] &&
    [ -f "$LIB/cmake/espsec/espsecConfigVersion.cmake" ] || { echo "FAIL: espsec.pc / CMake package missing"; exit 1; }

soname=$(objdump -p "$LIB/libespsec.so" | awk '/SONAME/ {print $2}')
[[ "$soname" =~ ^libespsec\.so\.[0-9]+$ ]] || { echo "FAIL: SONAME '$soname' (libespsec.so.MAJOR expected)"; exit 1; }
echo "ok: installed, SONAME $soname"

# exports = the public API exactly
nm -D --defined-only "$LIB/libespsec.so" | awk '$2 == "T" || $2 == "D" || $2 == "B" || $2 == "R" {print $3}' | sort -u >"$T/exported"
cat "$P"/include/espsec/*.h | tr '\n' ' ' | grep -oE '\bespsec_[a-z0-9_]+\s*\(' | sed -E 's/\s*\($//' |
    grep -vE '_(t|fn)$' | sort -u >"$T/declared"
missing=$(comm -23 "$T/declared" "$T/exported")
extra=$(comm -13 "$T/declared" "$T/exported")
[ -z "$missing" ] || { echo "FAIL: declared in include/espsec but not exported: $missing (does the header have #pragma GCC visibility push(default)?)"; exit 1; }
[ -z "$extra" ] || { echo "FAIL: exported but not in a public header: $extra"; exit 1; }
echo "ok: libespsec.so exports the $(wc -l <"$T/declared") public functions and nothing else"

# a header whose API is not exported would only show at link time: every public header exports
for h in "$P"/include/espsec/*.h; do
    grep -q '^#pragma GCC visibility push(default)' "$h" && grep -q '^#pragma GCC visibility pop' "$h" ||
        { echo "FAIL: $h lacks #pragma GCC visibility push(default) ... pop"; exit 1; }
done

# every public header compiles on its own in strict C11
for h in "$P"/include/espsec/*.h; do
    printf '#include <espsec/%s>\n' "$(basename "$h")" >"$T/one.c"
    "${CC:-cc}" -std=c11 -pedantic -Wall -Wextra -Werror -fsyntax-only -I"$P/include" "$T/one.c" ||
        { echo "FAIL: $h does not compile on its own (-std=c11 -pedantic)"; exit 1; }
done
echo "ok: every public header compiles on its own"

# espsec --version: its version, then the OpenSSL it runs on
"$P/bin/espsec" --version >"$T/version"
grep -qE '^espsec [0-9]+\.[0-9]+\.[0-9]+$' "$T/version" && sed -n 2p "$T/version" | grep -qE '^OpenSSL 3\.' ||
    { cat "$T/version"; echo "FAIL: espsec --version"; exit 1; }

# pkg-config
export PKG_CONFIG_PATH=$LIB/pkgconfig
pcflags=$(pkg-config --cflags --libs espsec)
[ "$(pkg-config --modversion espsec)" = "$("$P/bin/espsec" --version | sed -n '1s/^espsec //p')" ] ||
    { echo "FAIL: espsec.pc version differs from espsec --version"; exit 1; }
# shellcheck disable=SC2086
"${CC:-cc}" -std=c11 -Wall -Wextra -Werror -o "$T/consumer_pc" "$SRC/consumer.c" $pcflags -Wl,-rpath,"$LIB"
ldd "$T/consumer_pc" >"$T/ldd_pc"
grep -q "=> $LIB/$soname " "$T/ldd_pc" || { cat "$T/ldd_pc"; echo "FAIL: consumer_pc does not load $LIB/$soname"; exit 1; }
"$T/consumer_pc" >"$T/out_pc" || { cat "$T/out_pc"; echo "FAIL: the pkg-config consumer"; exit 1; }
grep -q '^consumer: OK$' "$T/out_pc" && grep -q '^tampered copy refused' "$T/out_pc" || { cat "$T/out_pc"; exit 1; }
echo "ok: pkg-config consumer ($pcflags) signs and verifies"

# find_package(espsec)
CC="${CC:-cc}" cmake -S "$SRC" -B "$T/cb" -DCMAKE_PREFIX_PATH="$P" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" -DCMAKE_BUILD_RPATH="$LIB" >"$T/cmake.log" ||
    { cat "$T/cmake.log"; echo "FAIL: find_package(espsec)"; exit 1; }
cmake --build "$T/cb" >"$T/build.log" || { cat "$T/build.log"; echo "FAIL: building the CMake consumer"; exit 1; }
for c in consumer_shared consumer_static; do
    "$T/cb/$c" >"$T/out_$c" || { cat "$T/out_$c"; echo "FAIL: $c"; exit 1; }
    grep -q '^consumer: OK$' "$T/out_$c" || { cat "$T/out_$c"; exit 1; }
done
ldd "$T/cb/consumer_shared" >"$T/ldd_shared"
ldd "$T/cb/consumer_static" >"$T/ldd_static"
grep -q "=> $LIB/$soname " "$T/ldd_shared" || { cat "$T/ldd_shared"; echo "FAIL: consumer_shared does not load libespsec.so"; exit 1; }
if grep -q libespsec "$T/ldd_static"; then echo "FAIL: consumer_static loads libespsec.so"; exit 1; fi
echo "ok: find_package(espsec) consumers (espsec::espsec, espsec::espsec_static) sign and verify"
echo "pkg install: all passed"
