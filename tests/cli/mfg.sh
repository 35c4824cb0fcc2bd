# espsec mfg generate: mfg_gen's outputs per device (CSV as mfg_gen writes it, partition as nvs_partition_gen
# makes from that CSV, keys), REPEAT, file ids, shards, parallel runs identical, refusals naming the row.
. "$(dirname "$0")/lib.inc"
E=$ESPSEC
KEYS=$VECTORS/nvs/input/nvs_keys.bin
cd "$T"
cat >conf.csv <<'EOF'
app,namespace,
serial_no,data,string
device_id,data,u32
fw_region,data,string,REPEAT
cal,data,hex2bin
wifi,namespace,
ssid,data,string
psk,data,string
EOF
cat >values.csv <<'EOF'
serial_no,device_id,fw_region,cal,ssid,psk,unused
SN-0001,1001,EU,0011aabb,factory,"pass,with,commas",x

SN-0002,1002,,0022ccdd,factory,"quote""inside",y
SN-0003,1003,US,0033eeff,factory,plain,z
EOF

ok $E mfg generate conf.csv values.csv dev 0x6000 --outdir od --inputkey "$KEYS" --fileid serial_no
contains "$T/out" "Generated 3 device partitions"
# the device CSV exactly as mfg_gen's csv.writer writes it (CRLF, minimal quoting, REPEAT from the first row)
printf 'key,type,encoding,value\r\napp,namespace,,\r\nserial_no,data,string,SN-0002\r\ndevice_id,data,u32,1002\r\nfw_region,data,string,EU\r\ncal,data,hex2bin,0022ccdd\r\nwifi,namespace,,\r\nssid,data,string,factory\r\npsk,data,string,"quote""inside"\r\n' >want2.csv
same od/csv/dev-SN-0002.csv want2.csv
# each partition is what nvs_partition_gen makes from that CSV (espsec nvs encrypt is checked against it)
for id in SN-0001 SN-0002 SN-0003; do
    ok $E nvs encrypt od/csv/dev-$id.csv ref-$id.bin 0x6000 --inputkey "$KEYS"
    same od/bin/dev-$id.bin ref-$id.bin
done
ok $E nvs get od/bin/dev-SN-0003.bin app fw_region --keyfile "$KEYS"
[ "$(cat "$T/out")" = EU ] || fail "REPEAT: row 3 must take the first row's value"
ok $E nvs get od/bin/dev-SN-0001.bin wifi psk --keyfile "$KEYS"
[ "$(cat "$T/out")" = "pass,with,commas" ] || fail "quoted value"

# default file ids: the row number from 1; per-device keys, each different, mode 0600, each decrypting its device
ok $E mfg generate conf.csv values.csv dev 0x6000 --outdir kg --keygen --jobs 2
for i in 1 2 3; do
    CHECKS=$((CHECKS + 1))
    [ "$(stat -c %a kg/keys/keys-dev-$i.bin)" = 600 ] || fail "keys-dev-$i.bin is not mode 0600"
    ok $E nvs get kg/bin/dev-$i.bin app device_id --keyfile kg/keys/keys-dev-$i.bin
    [ "$(cat "$T/out")" = "100$i" ] || fail "device $i"
done
CHECKS=$((CHECKS + 1))
if cmp -s kg/keys/keys-dev-1.bin kg/keys/keys-dev-2.bin; then fail "two devices got the same key"; fi
bad "wrong NVS key" $E nvs get kg/bin/dev-1.bin app device_id --keyfile kg/keys/keys-dev-2.bin

# unencrypted, one job and many: identical outputs; a shard makes only its rows
ok $E mfg generate conf.csv values.csv p 0x3000 --outdir j1 --jobs 1
ok $E mfg generate conf.csv values.csv p 0x3000 --outdir j4 --jobs 4
for i in 1 2 3; do
    same j1/bin/p-$i.bin j4/bin/p-$i.bin
    same j1/csv/p-$i.csv j4/csv/p-$i.csv
done
ok $E mfg generate conf.csv values.csv p 0x3000 --outdir shard --rows 2-3
absent shard/bin/p-1.bin
same shard/bin/p-2.bin j1/bin/p-2.bin
same shard/bin/p-3.bin j1/bin/p-3.bin
bad "rows 3..5 requested" $E mfg generate conf.csv values.csv p 0x3000 --outdir shard2 --rows 3-5

# refusals: the row named, nothing replaced, no half file
cp j1/bin/p-2.bin keep.bin
bad "p-1.csv: already exists" $E mfg generate conf.csv values.csv p 0x3000 --outdir j1 --jobs 1
same j1/bin/p-2.bin keep.bin
printf 'serial_no,device_id,fw_region,cal,ssid,psk,unused\nSN-9,1,EU,00,f,p,x\nSN-10,2,EU,zz,f,p,x\n' >badhex.csv
bad "badhex.csv: line 3 (device 2): " $E mfg generate conf.csv badhex.csv b 0x3000 --outdir bh --jobs 1
absent bh/bin/b-2.bin
printf 'serial_no,device_id,fw_region,cal,ssid,psk,unused\nSN-9,1,EU,00,f,p\n' >short.csv
bad "short.csv: line 2: 6 values for the 7 keys" $E mfg generate conf.csv short.csv b 0x3000 --outdir sh
absent sh
printf 'serial_no,fw_region,cal,ssid,psk\nSN-9,EU,00,f,p\n' >nokey.csv
bad "key 'device_id' of the config file is not in the header" $E mfg generate conf.csv nokey.csv b 0x3000 --outdir nk
printf 'serial_no,device_id,fw_region,cal,ssid,psk,unused\nSN-9,1,EU,00,f,p,x\nSN-9,2,EU,00,f,p,x\n' >dup.csv
bad "lines 2 and 3: file id 'SN-9' appears twice" $E mfg generate conf.csv dup.csv b 0x3000 --outdir dp --fileid serial_no
absent dp
bad "--fileid 'nope' is not a column" $E mfg generate conf.csv values.csv b 0x3000 --outdir x --fileid nope
printf 'app,namespace,\nserial_no,blob,string\n' >badtype.csv
bad "badtype.csv: line 2: type 'blob'" $E mfg generate badtype.csv values.csv b 0x3000 --outdir x
printf 'app,namespace,\nserial_no,data,float\n' >badenc.csv
bad "badenc.csv: line 2: encoding 'float'" $E mfg generate badenc.csv values.csv b 0x3000 --outdir x
bad "multiple of 4096" $E mfg generate conf.csv values.csv b 0x3100 --outdir x
bad "both" $E mfg generate conf.csv values.csv b 0x3000 --keygen --inputkey "$KEYS"
absent x
# mfg_gen's generate-key: a key file an --inputkey run takes
ok $E mfg generate-key --keyfile mk.bin --outdir mk
[ "$(stat -c %a mk/keys/mk.bin)" = 600 ] || fail "mfg generate-key: key not 0600"
ok $E mfg generate conf.csv values.csv g 0x3000 --outdir gk --inputkey mk/keys/mk.bin
ok $E nvs get gk/bin/g-1.bin app device_id --keyfile mk/keys/mk.bin
ok $E mfg generate --help
# mfg_gen's HMAC-based key protection and --prefix_num: byte-identical with mfg_gen (tests/vectors/mfg/hmac_prefix)
HP=$VECTORS/mfg/hmac_prefix
ok $E mfg generate "$HP/input/conf.csv" "$HP/input/values.csv" pfx 0x3000 --keygen --key_protect_hmac --kp_hmac_inputkey "$HP/input/hk.bin" --prefix_num 7 4 --outdir hp --manifest hp/manifest.csv
for f in $(cd "$HP/expected" && find . -type f | sort); do same "hp/$f" "$HP/expected/$f"; done
[ "$(find hp -type f | wc -l)" = 16 ] || fail "hmac_prefix: not the 15 files of mfg_gen plus the manifest"
contains hp/manifest.csv "1,1,nvs,bin/pfx-0007-1.bin"
[ "$(grep -c ',keys,keys/' hp/manifest.csv)" = 5 ] || fail "manifest lacks the key files"
# a fresh HMAC key per device: keys/hmac-keys-PREFIX-ID.bin (0600), its keys derived from it
ok $E mfg generate "$HP/input/conf.csv" "$HP/input/values.csv" hk 0x3000 --keygen --key_protect_hmac --kp_hmac_keygen --outdir hg
[ "$(stat -c %a hg/keys/hmac-keys-hk-3.bin)" = 600 ] || fail "per-device HMAC key not 0600"
ok $E nvs generate-key --key_protect_hmac --kp_hmac_inputkey hg/keys/hmac-keys-hk-3.bin --keyfile k3.bin --outdir hgk
same hgk/keys/k3.bin hg/keys/keys-hk-3.bin
cmp -s hg/keys/hmac-keys-hk-2.bin hg/keys/hmac-keys-hk-3.bin && fail "two devices got the same HMAC key"
bad "kp_hmac_keygen or" $E mfg generate "$HP/input/conf.csv" "$HP/input/values.csv" x 0x3000 --keygen --key_protect_hmac --outdir hx
bad "every device gets its own HMAC key" $E mfg generate "$HP/input/conf.csv" "$HP/input/values.csv" x 0x3000 --keygen --key_protect_hmac --kp_hmac_keygen --kp_hmac_keyfile h.bin --outdir hx
bad "prefix_num START LENGTH" $E mfg generate "$HP/input/conf.csv" "$HP/input/values.csv" x 0x3000 --prefix_num 7 --outdir hx
bad "manifest is never replaced" $E mfg generate "$HP/input/conf.csv" "$HP/input/values.csv" x 0x3000 --outdir hx --manifest hp/manifest.csv

# esp_secure_cert partitions per device: the same bytes as secure-cert generate for each row
SC=$VECTORS/secure_cert/input
printf 'serial,count,device_cert,private_key\n' > scv.csv
for i in 1 2 3; do printf 'SN%d,%d,%s,%s\n' $i $i "$SC/dev.pem" "$SC/dev.key" >> scv.csv; done
ok $E mfg generate "$HP/input/conf.csv" scv.csv both 0x3000 --secure-cert --ca-cert "$SC/ca.pem" --outdir sc1 --manifest sc1/m.csv
same sc1/secure_cert/both-2.bin "$VECTORS/secure_cert/expected/plain.bin"
[ "$(stat -c %a sc1/secure_cert/both-1.bin)" = 600 ] || fail "secure-cert partition with a key not 0600"
contains sc1/m.csv "2,2,secure_cert,secure_cert/both-2.bin,1408,"
ok $E mfg secure-cert scv.csv only --ca-cert "$SC/ca.pem" --outdir sc2 --fileid serial --jobs 2
same sc2/secure_cert/only-SN3.bin "$VECTORS/secure_cert/expected/plain.bin"
[ ! -e sc2/bin ] || fail "mfg secure-cert wrote NVS partitions"
ok $E mfg secure-cert scv.csv signed --sign-key "$SC/sb_ec.pem" --outdir sc3
ok $E secure-cert verify sc3/secure_cert/signed-1.bin -k "$SC/sb_ec.pem"
bad "exists" $E mfg secure-cert scv.csv only --ca-cert "$SC/ca.pem" --outdir sc2 --fileid serial
printf 'serial,device_cert,private_key\nSN9,%s,/nonexistent.key\n' "$SC/dev.pem" > bad.csv
bad "line 2 (device 1).*nonexistent" $E mfg secure-cert bad.csv b --outdir sc4
printf 'serial,cert\nSN9,x\n' > nocol.csv
bad "no column 'device_cert'" $E mfg secure-cert nocol.csv b --outdir sc5
ok $E mfg secure-cert --help
finish
