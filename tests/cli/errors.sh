# Error messages name what is wrong and where: the file (and field, offset or line), one line, exit
# non-zero; bytes from the input that are not printable are escaped; a killed writer's temporary
# files are cleaned up by the next write to the same name.
. "$(dirname "$0")/lib.inc"
E=$ESPSEC
cd "$T"
head -c 4096 /dev/urandom >data.bin

# a flash encryption key of the wrong length names the key file
head -c 20 /dev/urandom >short_key.bin
bad "^espsec: error: short_key.bin: flash encryption key is 160 bits" \
    $E secure encrypt-flash-data --keyfile short_key.bin --address 0x1000 -o enc.bin data.bin
absent enc.bin
head -c 48 /dev/urandom >xts48.bin
bad "^espsec: error: xts48.bin: XTS-AES key is 384 bits" \
    $E secure encrypt-flash-data --aes-xts --keyfile xts48.bin --address 0x1000 -o enc.bin data.bin

# a damaged signing key (the public half of another key) names the key file, not the image, and is
# refused before signing (it used to sign, then report "internal error" or a bad image signature)
openssl ecparam -name prime256v1 -genkey -noout -outform DER -out a.der 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -outform DER -out b.der 2>/dev/null
# SEC1 DER for P-256 ends with the 65-byte public point: splice in the other key's
{ head -c $(($(stat -c %s a.der) - 65)) a.der; tail -c 65 b.der; } >mix.der
{ echo "-----BEGIN EC PRIVATE KEY-----"; base64 -w 64 mix.der; echo "-----END EC PRIVATE KEY-----"; } >mixed.pem
for v in 1 2; do
    bad "^espsec: error: mixed.pem: the private key is damaged: its public key does not match" \
        $E secure sign-data --version $v --keyfile mixed.pem -o signed$v.bin data.bin
    absent signed$v.bin
done
bad "^espsec: error: mixed.pem: the private key is damaged" $E secure extract-public-key --version 2 \
    --keyfile mixed.pem pub.pem
# the undamaged key still signs
{ echo "-----BEGIN EC PRIVATE KEY-----"; base64 -w 64 a.der; echo "-----END EC PRIVATE KEY-----"; } >good.pem
ok $E secure sign-data --version 2 --keyfile good.pem -o signed.bin data.bin

# CA sources of tls get: refused before connecting, naming the file
: >empty.pem
bad "^espsec: error: empty.pem: empty file (--cacert" $E tls get https://localhost:1/ --cacert empty.pem
bad "^espsec: error: empty.pem: empty file (--crt-bundle" $E tls get https://localhost:1/ --crt-bundle empty.pem
echo "not a certificate" >junk.pem
bad "^espsec: error: junk.pem: the CA buffer holds no certificate" $E tls get https://localhost:1/ --cacert junk.pem
printf '\x03\x00\x00\x00zzzz' >bad.bundle
bad "^espsec: error: bad.bundle: CA bundle: offset 0x0: first certificate offset 0x3" \
    $E tls get https://localhost:1/ --crt-bundle bad.bundle

# nvs get/set/erase name the image; a namespace is not called a key
printf 'key,type,encoding,value\nstorage,namespace,,\ncount,data,u8,1\n' >nvs.csv
ok $E nvs generate nvs.csv nvs.bin 0x3000
bad "^espsec: error: nvs.bin: storage/nokey: no such key (ESP_ERR_NVS_NOT_FOUND)" $E nvs get nvs.bin storage nokey
bad "^espsec: error: nvs.bin: namespace 'other' not found" $E nvs get nvs.bin other count
bad "^espsec: error: nvs.bin: length of namespace \`abcdefghijklmnop\` should be <= 15 characters (it has 16)" \
    $E nvs set nvs.bin abcdefghijklmnop count u8 2
bad "^espsec: error: nvs.bin: length of namespace \`abcdefghijklmnop\`" $E nvs get nvs.bin abcdefghijklmnop count
bad "^espsec: error: nvs.bin: length of key \`abcdefghijklmnop\`" $E nvs erase nvs.bin storage abcdefghijklmnop
ok $E nvs get nvs.bin storage count

# bytes that are not printable are escaped: a terminal never sees the input's control characters
bad 'namespace .a\\x1b\[31mb. not found' $E nvs get nvs.bin "$(printf 'a\033[31mb')" count
CHECKS=$((CHECKS + 1))
if grep -q "$(printf '\033')" "$T/err"; then fail "raw ESC in an error message"; fi
bad 'nvs.bin: length of key `k\\xff\\x01' $E nvs erase nvs.bin storage "$(printf 'k\377\001_longer_than_15')"
# valid UTF-8 is kept as it is
bad "namespace 'grüße' not found" $E nvs get nvs.bin "grüße" count

# boot: a partition past the end of the flash is the bootloader's verdict (exit 1), not a read error
V=$VECTORS/device
cp "$V/expected/flash_plain.bin" flash.bin
dd if=flash.bin of=pt.bin bs=4096 skip=8 count=1 2>/dev/null
ok $E partition-table pt.bin pt.csv
sed 's/^factory,app,factory,0x10000,1M,/factory,app,factory,0x800000,1M,/' pt.csv >far.csv
ok $E partition-table far.csv far.bin
dd if=far.bin of=flash.bin bs=4096 seek=8 conv=notrunc 2>/dev/null
CHECKS=$((CHECKS + 1))
$E boot --efuse "$V/input/efuse_fresh.bin" --flash flash.bin >boot.out 2>boot.err
rc=$?
[ $rc -eq 1 ] || fail "boot with a partition past the flash: exit $rc, expected 1 ($(cat boot.err))"
contains boot.out "DOES NOT BOOT (bootloader, offset 0x8000): partition table at 0x8000: partition 'factory' (0x800000, 0x100000 bytes) ends past the end of the 0x400000-byte flash"
contains boot.out "E ([0-9]*) flash_parts: partition 2 invalid - offset 0x800000 size 0x100000 exceeds flash chip size 0x400000"

# merge-bin: an address near 2^64 is refused, not wrapped (the earlier merge-bin corrupted the heap:
# free(): invalid next size)
echo "data" >small.bin
bad "small.bin: address 0xffffffffffffff00 is past the 32-bit flash address space" \
    $E image merge-bin -o merged.bin 0xFFFFFFFFFFFFFF00 small.bin
absent merged.bin

# a killed writer's temporaries (.NAME.XXXXXX) go on the next write to NAME; a live writer's (locked),
# other names' and files of other patterns stay
echo "x" >stale_src.txt
touch .out.c.AbC123 .out.c.toolong1 .out.c.ab-123 .other.c.AbC123 .out.c.Zz9Zz9
flock .out.c.Zz9Zz9 sleep 5 &
locker=$!
sleep 0.3
ok $E embed stale_src.txt -o out.c
absent .out.c.AbC123
for f in .out.c.toolong1 .out.c.ab-123 .other.c.AbC123 .out.c.Zz9Zz9; do
    CHECKS=$((CHECKS + 1))
    [ -e "$f" ] || fail "$f was removed (not a stale temporary of out.c)"
done
kill "$locker" 2>/dev/null
wait "$locker" 2>/dev/null
finish
