#!/usr/bin/env bash
# Production-credential benchmarks, each with a reference measured in the same run:
#  1. esp_secure_cert partitions per second at N devices (default 100,000) with `espsec mfg secure-cert`
#     (CA + device certificate + P-256 key per device, integrity TLV, 0600 files), against
#     configure_esp_secure_cert.py per partition (REF_RUNS runs, when its checkout is at hand: ESP_SECURE_CERT_TOOLS);
#  2. pre-encrypted OTA (esp_encrypted_img) encrypt and decrypt of a 4 MiB image (RSA-3072 and ECIES-P256),
#     against `openssl speed -evp aes-256-gcm` on 16 KiB blocks (the AES-GCM ceiling) and esp_enc_img_gen.py
#     (ESP_ENC_IMG_GEN) when at hand.
# Usage: bench/prod_bench.sh [BUILD_DIR] [DEVICES] [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${1:-build}
N=${2:-100000}
W=${3:-$(mktemp -d)}
E=$ROOT/$BUILD/espsec
[ -x "$E" ] || E=$BUILD/espsec
SC=$ROOT/tests/vectors/secure_cert/input
OV=$ROOT/tests/vectors/ota_enc/input
mkdir -p "$W"
cd "$W"
now() { date +%s.%N; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1 /proc/loadavg)"

# 1. secure-cert partitions
python3 - "$N" "$SC" <<'PY' > values.csv
import sys
n, sc = int(sys.argv[1]), sys.argv[2]
print("serial,device_cert,private_key")
for i in range(n):
    print("SN%08d,%s/dev.pem,%s/dev.key" % (i, sc, sc))
PY
rm -rf sc_out
t0=$(now)
"$E" mfg secure-cert values.csv dev --ca-cert "$SC/ca.pem" --fileid serial --outdir sc_out --quiet >/dev/null
t1=$(now)
cnt=$(find sc_out/secure_cert -type f | wc -l)
[ "$cnt" = "$N" ] || { echo "expected $N partitions, found $cnt" >&2; exit 1; }
espsec_rate=$(python3 -c "print('%.0f' % ($N / ($t1 - $t0)))")
echo "espsec mfg secure-cert: $N partitions in $(python3 -c "print('%.2f' % ($t1 - $t0))") s = $espsec_rate partitions/s"
if [ -n "${ESP_SECURE_CERT_TOOLS:-}" ] && [ -f "$ESP_SECURE_CERT_TOOLS/configure_esp_secure_cert.py" ]; then
    RUNS=${REF_RUNS:-20}
    t0=$(now)
    for i in $(seq 1 "$RUNS"); do
        rm -rf esp_secure_cert_data
        python3 "$ESP_SECURE_CERT_TOOLS/configure_esp_secure_cert.py" --ca-cert "$SC/ca.pem" --device-cert "$SC/dev.pem" \
            --private-key "$SC/dev.key" --target_chip esp32c3 --skip_flash >/dev/null 2>&1
    done
    t1=$(now)
    ref_rate=$(python3 -c "print('%.2f' % ($RUNS / ($t1 - $t0)))")
    cmp -s esp_secure_cert_data/esp_secure_cert.bin sc_out/secure_cert/dev-SN00000000.bin && same=identical || same=DIFFERENT
    echo "configure_esp_secure_cert.py: $RUNS partitions in $(python3 -c "print('%.2f' % ($t1 - $t0))") s = $ref_rate partitions/s (output $same)"
    echo "ratio espsec/reference: $(python3 -c "print('%.0fx' % ($espsec_rate / $ref_rate))")"
fi

# 2. pre-encrypted OTA, 4 MiB
head -c 4194304 /dev/urandom > app4m.bin
for scheme in rsa ecc; do
    if [ $scheme = rsa ]; then PUB=$OV/rsa_pub_key.pem; DEC="--key $OV/rsa_priv_key.pem"; else PUB=$OV/device_pub_key.pem; DEC="--hmac-key $OV/device_hmac_key.bin"; fi
    best_e=9; best_d=9
    for i in 1 2 3 4 5; do
        t0=$(now); "$E" ota encrypt --key "$PUB" -o e_$scheme.bin app4m.bin >/dev/null; t1=$(now)
        "$E" ota decrypt $DEC -o d_$scheme.bin e_$scheme.bin >/dev/null; t2=$(now)
        best_e=$(python3 -c "print(min($best_e, $t1 - $t0))"); best_d=$(python3 -c "print(min($best_d, $t2 - $t1))")
    done
    cmp -s d_$scheme.bin app4m.bin || { echo "round trip failed" >&2; exit 1; }
    echo "espsec ota encrypt/decrypt 4 MiB ($scheme, whole process, best of 5): encrypt $(python3 -c "print('%.1f ms = %.0f MB/s' % ($best_e*1e3, 4.194304/$best_e))"), decrypt $(python3 -c "print('%.1f ms = %.0f MB/s' % ($best_d*1e3, 4.194304/$best_d))")"
    eval "enc_$scheme=$best_e"
done
ossl=$(openssl speed -evp aes-256-gcm -bytes 16384 -seconds 2 2>/dev/null | awk '/^AES-256-GCM|^aes-256-gcm/ {v=$NF} END {sub("k","",v); print v}')
echo "openssl speed -evp aes-256-gcm -bytes 16384: ${ossl} kB/s = $(python3 -c "print('%.0f' % ($ossl/1000))") MB/s"
python3 -c "
t=4.194304/($ossl/1000)
print('ratio espsec encrypt time / openssl AES-GCM time for 4 MiB: rsa %.2fx, ecc %.2fx (the difference is process start, file I/O and the key wrap)' % ($enc_rsa/t, $enc_ecc/t))"
if [ -n "${ESP_ENC_IMG_GEN:-}" ] && [ -f "$ESP_ENC_IMG_GEN" ]; then
    t0=$(now); python3 "$ESP_ENC_IMG_GEN" encrypt app4m.bin "$OV/rsa_pub_key.pem" py.bin >/dev/null; t1=$(now)
    echo "esp_enc_img_gen.py encrypt 4 MiB (rsa): $(python3 -c "print('%.1f ms' % (($t1-$t0)*1e3))"); ratio espsec/reference: $(python3 -c "print('%.1fx faster' % (($t1-$t0)/$enc_rsa))")"
fi
