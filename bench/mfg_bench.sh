#!/usr/bin/env bash
# The manufacturing benchmark: N devices (default 1,000,000) of 24 KiB encrypted partitions with 10 values each,
# a fresh key per device, CSVs kept. Needs about 31 KB of disk per device (31 GB for the million) in WORKDIR.
# Usage: bench/mfg_bench.sh [BUILD_DIR] [DEVICES] [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
N=${2:-1000000}
W=${3:-$(mktemp -d)}
mkdir -p "$W"
python3 - "$W" "$N" <<'PY'
import base64, random, sys
random.seed(7)
w, n = sys.argv[1], int(sys.argv[2])
open(w + '/conf10.csv', 'w').write(
    "factory,namespace,\nserial_no,data,string\ndevice_id,data,u32\nmac,data,hex2bin\nhw_rev,data,u8\n"
    "region,data,string,REPEAT\nmfg_date,data,string\ncal_a,data,i32\ncal_b,data,i32\ncert_id,data,string\n"
    "token,data,base64\n")
with open(w + '/values.csv', 'w') as f:
    f.write("serial_no,device_id,mac,hw_rev,region,mfg_date,cal_a,cal_b,cert_id,token\n")
    for i in range(n):
        f.write("SN%08d,%d,%012x,3,EU,2026-11-24,%d,%d,cert-%08d,%s\n" % (
            i, i, random.getrandbits(48), random.randint(-1000, 1000), random.randint(-1000, 1000), i,
            base64.b64encode(random.randbytes(32)).decode()))
PY
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
/usr/bin/time -f "user %U s, system %S s, elapsed %e s, max RSS %M KB" \
    "$BUILD/espsec" mfg generate "$W/conf10.csv" "$W/values.csv" dev 0x6000 --outdir "$W/out" --keygen \
    --fileid serial_no --stats --quiet
du -sh "$W/out"
rm -rf "$W"
