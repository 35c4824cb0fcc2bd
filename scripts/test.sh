#!/usr/bin/env bash
# Every test: install what is missing; build and run the suite in a release
# build and in an ASan+UBSan build; build Release with gcc and clang (the
# install tests on clang's), make the Debian packages and install them
# (scripts/deb_test.sh); clang-tidy over src/ (scripts/tidy.sh); build the
# libFuzzer targets and run each briefly.
# All builds use -Werror. Options (environment):
#   ESPSEC_LONG=1          also register and run the long tests (exhaustive
#                          NVS power-cut sweep) - see README "Long tests"
#   ESPSEC_FUZZ_SECONDS=N  seconds per fuzz target (default 15; 0 skips fuzzing)
#   ESPSEC_TIDY=0          skip clang-tidy over src/ (default 1: any finding fails)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
JOBS=$(nproc)
LONG=${ESPSEC_LONG:-0}
FUZZ_SECONDS=${ESPSEC_FUZZ_SECONDS:-15}
LONG_FLAG=$([ "$LONG" = 1 ] && echo ON || echo OFF)

echo "== release build (gcc, RelWithDebInfo, -Werror) and the suite"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DESPSEC_WERROR=ON -DESPSEC_LONG_TESTS=$LONG_FLAG >/dev/null
cmake --build build -j"$JOBS" >/dev/null
(cd build && ctest --output-on-failure -j"$JOBS")

# What packagers build: -O3 brings warnings of its own (-Wformat-truncation);
# both compilers must stay warning-free (the suite ran above; these add the
# install and package tests).
echo "== Release build with gcc (-Werror)"
CC=gcc cmake -S . -B build-release-gcc -DCMAKE_BUILD_TYPE=Release -DESPSEC_WERROR=ON >/dev/null
cmake --build build-release-gcc -j"$JOBS" >/dev/null
echo "== Release build with clang (-Werror), its install and consumers (pkg.* tests)"
CC=clang cmake -S . -B build-release-clang -DCMAKE_BUILD_TYPE=Release -DESPSEC_WERROR=ON >/dev/null
cmake --build build-release-clang -j"$JOBS" >/dev/null
(cd build-release-clang && ctest --output-on-failure -R '^pkg\.')

# The Debian packages (espsec, libespsec0, libespsec-dev) from the gcc Release
# build: dpkg -i, espsec demo from /usr/bin, a libespsec-dev consumer, purge.
if [ "$(id -u)" -eq 0 ] && command -v dpkg >/dev/null; then
    echo "== Debian packages"
    scripts/deb_test.sh build-release-gcc
else
    echo "== Debian packages: skipped (needs root and dpkg)"
fi

if [ "${ESPSEC_TIDY:-1}" = 1 ]; then
    echo "== clang-tidy (bugprone, cert, clang-analyzer; .clang-tidy lists what is off and why)"
    scripts/tidy.sh build-tidy
fi

echo "== ASan+UBSan build"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DESPSEC_WERROR=ON -DESPSEC_SANITIZE=ON -DESPSEC_LONG_TESTS=OFF >/dev/null
cmake --build build-asan -j"$JOBS" >/dev/null
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j"$JOBS")

if [ "$FUZZ_SECONDS" != 0 ]; then
    echo "== fuzz targets (${FUZZ_SECONDS}s each)"
    CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DESPSEC_WERROR=ON -DESPSEC_FUZZ=ON >/dev/null
    cmake --build build-fuzz -j"$JOBS" >/dev/null
    scripts/fuzz.sh build-fuzz "$FUZZ_SECONDS"
fi
echo "== all tests passed"
