# espsec partition-table against gen_esp32part.py's outputs (tests/vectors/partition).
. "$(dirname "$0")/lib.inc"
P=$VECTORS/partition
for n in secure ota numeric; do
    ok "$ESPSEC" partition-table "$P/input/$n.csv" "$T/$n.bin" && same "$T/$n.bin" "$P/expected/$n.bin"
    ok "$ESPSEC" partition-table "$P/expected/$n.bin" "$T/$n.csv" && same "$T/$n.csv" "$P/expected/$n.csv"
    # binary to stdout, CSV through stdin
    ok "$ESPSEC" partition_table -q "$P/expected/$n.bin" && same "$T/out" "$P/expected/$n.csv"
done
ok "$ESPSEC" partition-table --disable-md5sum "$P/input/secure.csv" "$T/nomd5.bin" && same "$T/nomd5.bin" "$P/expected/secure_nomd5.bin"
ok "$ESPSEC" partition-table --offset 0x10000 "$P/input/ota.csv" "$T/o.bin" && same "$T/o.bin" "$P/expected/ota_at_0x10000.bin"
bad "Partitions overlap. Partition sets offset 0xe000. Previous partition ends 0xf000" "$ESPSEC" partition-table "$P/input/bad_overlap.csv" "$T/x.bin"
absent "$T/x.bin"
bad "Offset 0x11000 is not aligned to 0x10000" "$ESPSEC" partition-table "$P/input/bad_align.csv" "$T/x.bin"
bad "Value 'dta' is not valid" "$ESPSEC" partition-table "$P/input/bad_type.csv" "$T/x.bin"
bad "must be flagged as 'readonly'" "$ESPSEC" partition-table "$P/input/bad_nvs_small.csv" "$T/x.bin"
bad "unknown flag 'secret'" "$ESPSEC" partition-table "$P/input/bad_flag.csv" "$T/x.bin"
bad "Partition names must be unique" "$ESPSEC" partition-table -q "$P/input/bad_dup.csv" "$T/x.bin"
bad "does not fit in configured flash size 2MB" "$ESPSEC" partition-table --flash-size 2MB "$P/input/ota.csv" "$T/x.bin"
absent "$T/x.bin"
# a corrupted binary: MD5 mismatch, bad magic, no end marker
cp "$P/expected/secure.bin" "$T/c.bin"; printf '\x01' | dd of="$T/c.bin" bs=1 seek=8 conv=notrunc 2>/dev/null
bad "MD5 checksums don't match" "$ESPSEC" partition-table "$T/c.bin" "$T/x.csv"
cp "$P/expected/secure.bin" "$T/c.bin"; printf '\x51' | dd of="$T/c.bin" bs=1 seek=33 conv=notrunc 2>/dev/null
bad "offset 0x20: invalid magic bytes 0xaa51" "$ESPSEC" partition-table --disable-md5sum "$T/c.bin" "$T/x.csv"
head -c 96 "$P/expected/secure_nomd5.bin" > "$T/c.bin"
bad "missing an end-of-table marker" "$ESPSEC" partition-table --disable-md5sum "$T/c.bin" "$T/x.csv"
absent "$T/x.csv"
# an existing output is not damaged by a failure
echo keep > "$T/keep.bin"
bad "unknown flag" "$ESPSEC" partition-table "$P/input/bad_flag.csv" "$T/keep.bin"
contains "$T/keep.bin" keep
# environment variables in CSV
printf 'nvs,data,nvs,$NVS_OFF,0x6000\n' > "$T/env.csv"
NVS_OFF=0x9000 ok "$ESPSEC" partition-table "$T/env.csv" "$T/env.bin"
bad "unknown variable 'NVS_OFF'" env -u NVS_OFF "$ESPSEC" partition-table "$T/env.csv" "$T/env2.bin"
# sizes and offsets are checked for overflow: K/M suffixes used to wrap (18014398509481996K became 12K)
for sz in 99999999999999999K 18014398509481996K 17592186044416M; do
    printf 'nvs, data, nvs, 0x9000, 0x6000,\nfactory, app, factory, 0x10000, %s,\n' $sz > "$T/big.csv"
    bad "Invalid field value $sz (too large)" "$ESPSEC" partition-table "$T/big.csv" "$T/big.bin"
    absent "$T/big.bin"
done
# nothing may end past the 4 GiB flash address space, even with --no-verify
printf 'nvs, data, nvs, 0xFFFF0000, 0x20000,\n' > "$T/past4g.csv"
bad "ends past the 4 GiB" "$ESPSEC" partition-table --no-verify "$T/past4g.csv" "$T/past4g.bin"
absent "$T/past4g.bin"
printf 'nvs, data, nvs, , 0xFFFFF000,\n' > "$T/past4g.csv"
bad "4 GiB" "$ESPSEC" partition-table --no-verify "$T/past4g.csv" "$T/past4g.bin"
bad "past the 4 GiB" "$ESPSEC" partition-table --offset 0x100008000 "$P/input/ota.csv" "$T/past4g.bin"
absent "$T/past4g.bin"
ok "$ESPSEC" partition-table --help
contains "$T/out" "Usage: espsec partition-table"
finish
