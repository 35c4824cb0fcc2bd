#!/usr/bin/env bash
# Run espsec's benchmarks next to `openssl speed` in the same run and print
# ratios. Usage: bench/run.sh [BUILD_DIR] [SUITE...]   (suites: image flashenc nvs tls)
# A time alone means little on a shared machine; the ratios are the result.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
shift || true
SUITES=${*:-image flashenc nvs tls}
B="$BUILD/bench/espsec_bench"
[ -x "$B" ] || { echo "build first: cmake --build $BUILD" >&2; exit 2; }
osp() { openssl speed -seconds 2 "$@" 2>/dev/null; }
kbps() { awk -v name="$1" '$1 == name {v = $NF; sub(/k$/, "", v); print v * 1000}'; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(openssl version)"
for s in $SUITES; do
    case $s in
    image)
        sha=$(osp -bytes 16384 -evp sha256 | kbps sha256)
        rsa=$(osp rsa3072 | awk '$1 == "rsa" && $2 == "3072" {print $6, $7}')
        ec=$(osp ecdsap256 | awk '$1 == 256 && $3 == "ecdsa" {print $7, $8}')
        out=$("$B" image)
        v() { echo "$out" | awk -v k="$1" '$1 == k {print $2}'; }
        echo "== image (4 MiB signed image; RSA-3072 / ECDSA P-256 signature blocks)"
        awk -v a="$(v image_sha256_4MiB_MBps)" -v b="$sha" 'BEGIN {printf "SHA-256 of the image      %8.1f MB/s   openssl speed sha256 %8.1f MB/s   ratio %.2f\n", a, b/1e6, a/(b/1e6)}'
        awk -v a="$(v image_verify_4MiB_ms)" -v b="$(v raw_sha256_plus_rsa_verify_ms)" 'BEGIN {printf "verify signed 4 MiB image %8.3f ms     raw SHA-256 + RSA verify %7.3f ms   ratio %.2f (target <= 1.5)\n", a, b, a/b}'
        set -- $rsa
        awk -v a="$(v sbv2_rsa3072_sign_per_s)" -v b="$1" 'BEGIN {printf "RSA-3072 signature block  %8.1f /s     openssl speed sign  %8.1f /s     ratio %.2f\n", a, b, a/b}'
        awk -v a="$(v sbv2_rsa3072_verify_block_per_s)" -v b="$2" 'BEGIN {printf "RSA-3072 block verify     %8.1f /s     openssl speed verify %7.1f /s     ratio %.2f\n", a, b, a/b}'
        set -- $ec
        awk -v a="$(v sbv2_ecdsa256_sign_per_s)" -v b="$1" 'BEGIN {printf "ECDSA P-256 block sign    %8.1f /s     openssl speed sign  %8.1f /s     ratio %.2f\n", a, b, a/b}'
        awk -v a="$(v sbv2_ecdsa256_verify_block_per_s)" -v b="$2" 'BEGIN {printf "ECDSA P-256 block verify  %8.1f /s     openssl speed verify %7.1f /s     ratio %.2f\n", a, b, a/b}'
        ;;
    flashenc)
        xts=$(osp -bytes 16384 -evp aes-256-xts | kbps AES-256-XTS)
        xts128=$(osp -bytes 16384 -evp aes-128-xts | kbps AES-128-XTS)
        out=$("$B" flashenc)
        v() { echo "$out" | awk -v k="$1" '$1 == k {print $2}'; }
        echo "== flash encryption (4 MiB at 0x10000)"
        awk -v a="$(v xts_aes256_4MiB_MBps)" -v b="$xts" 'BEGIN {printf "XTS-AES-256 (Espressif)   %8.1f MB/s   openssl speed aes-256-xts %8.1f MB/s   ratio %.2f (target >= 0.5)\n", a, b/1e6, a/(b/1e6)}'
        awk -v a="$(v xts_aes128_4MiB_MBps)" -v b="$xts128" 'BEGIN {printf "XTS-AES-128 (Espressif)   %8.1f MB/s   openssl speed aes-128-xts %8.1f MB/s   ratio %.2f\n", a, b/1e6, a/(b/1e6)}'
        awk -v a="$(v esp32_tweaked_aes_4MiB_MBps)" -v k="$(v aes256_decrypt_rekey_per_s)" 'BEGIN {printf "ESP32 tweaked AES-256     %8.1f MB/s   (target >= 100); bound: %.1f M AES-256 key schedules/s through EVP = %.0f MB/s at one per 32 bytes\n", a, k/1e6, k*32/1e6}'
        ;;
    nvs)
        x32=$(osp -bytes 32 -evp aes-256-xts | kbps AES-256-XTS)
        x16k=$(osp -bytes 16384 -evp aes-256-xts | kbps AES-256-XTS)
        out=$("$B" nvs)
        v() { echo "$out" | awk -v k="$1" '$1 == k {print $2}'; }
        echo "== NVS (1 MiB partition from a 2000-key CSV; store on a 64 KiB partition)"
        awk -v p="$(v nvs_generate_1MiB_2000keys_ms)" -v e="$(v nvs_generate_1MiB_2000keys_encrypted_ms)" 'BEGIN {printf "generate 1 MiB, 2000 keys  %7.2f ms plain   %7.2f ms encrypted\n", p, e}'
        awk -v r="$(v nvs_crypt_written_MBps)" -v w="$(v nvs_generate_written_bytes)" -v a="$x32" -v b="$x16k" 'BEGIN {printf "XTS of its %d written bytes %7.1f MB/s   openssl aes-256-xts 32-byte units %7.1f MB/s ratio %.2f; 16 KiB units %7.1f MB/s ratio %.2f\n", w, r, a/1e6, r/(a/1e6), b/1e6, r/(b/1e6)}'
        awk -v s="$(v nvs_set_u32_64KiB_per_s)" -v se="$(v nvs_set_u32_64KiB_encrypted_per_s)" -v a="$x32" 'BEGIN {printf "set u32 (64 KiB, GC incl.) %9.0f /s plain %9.0f /s encrypted (ratio %.2f)   openssl 32-byte XTS units %9.0f /s   ratio %.3f\n", s, se, se/s, a/32, se/(a/32)}'
        awk -v g="$(v nvs_get_u32_64KiB_per_s)" -v ge="$(v nvs_get_u32_64KiB_encrypted_per_s)" 'BEGIN {printf "get u32                    %9.0f /s plain %9.0f /s encrypted (values are kept decoded in RAM after mount)\n", g, ge}'
        awk -v m="$(v nvs_mount_64KiB_ms)" -v me="$(v nvs_mount_64KiB_encrypted_ms)" -v a="$x32" 'BEGIN {printf "mount 64 KiB (16 pages)    %9.3f ms plain %9.3f ms encrypted; decrypting all 2016 entries one XTS unit each would take %.3f ms at openssl speed\n", m, me, 2016 / (a/32) * 1e3}'
        ;;
    tls)
        W=$(mktemp -d)
        (
            cd "$W"
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout k.pem -out c.pem \
                -subj /CN=localhost -addext subjectAltName=DNS:localhost -days 30 2>/dev/null
            head -c 8388608 /dev/zero >big.bin
        )
        port=$((20000 + RANDOM % 20000))
        (cd "$W" && exec openssl s_server -accept 127.0.0.1:$port -cert c.pem -key k.pem -WWW -quiet >/dev/null 2>&1) &
        spid=$!
        sleep 0.5
        st_hs=$(openssl s_time -connect 127.0.0.1:$port -new -time 2 2>/dev/null | awk '/connections in .* real seconds/ {print $1 / $4}')
        st_hs_cpu=$(openssl s_time -connect 127.0.0.1:$port -new -time 2 2>/dev/null | awk '/connections\/user sec/ {for (i = 1; i <= NF; i++) if ($i == "connections/user") print $(i-1)}')
        st_bulk=$(openssl s_time -connect 127.0.0.1:$port -www /big.bin -new -time 2 2>/dev/null | awk '/bytes read per connection/ {print $1 * $(NF-4) / $4 / 1e6}')
        out=$(cd "$W" && "$OLDPWD/$B" tls $port c.pem /big.bin)
        kill $spid 2>/dev/null || true
        wait $spid 2>/dev/null || true
        rm -rf "$W"
        v() { echo "$out" | awk -v k="$1" '$1 == k {print $2}'; }
        echo "== TLS client against openssl s_server on loopback (ECDSA P-256, TLS 1.3, full handshakes)"
        awk -v a="$(v tls_handshakes_per_s)" -v b="$st_hs" 'BEGIN {printf "full handshakes (wall)    %8.1f /s     openssl s_time -new  %8.1f /s     ratio %.2f\n", a, b, a/b}'
        awk -v a="$(v tls_handshakes_per_cpu_s)" -v b="$st_hs_cpu" 'BEGIN {printf "full handshakes (client CPU) %5.1f /s     openssl s_time user  %8.1f /s     ratio %.2f\n", a, b, a/b}'
        awk -v a="$(v tls_bulk_MBps)" -v b="$st_bulk" 'BEGIN {printf "bulk GET of 8 MiB         %8.1f MB/s   openssl s_time -www  %8.1f MB/s   ratio %.2f\n", a, b, a/b}'
        ;;
    *) "$B" "$s" ;;
    esac
done
