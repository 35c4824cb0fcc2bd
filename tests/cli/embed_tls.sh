# espsec embed (ESP-IDF's EMBED_FILES / EMBED_TXTFILES symbols, checked by compiling and linking a program
# that reads them back) and the offline TLS commands: CA bundles, refusals.
. "$(dirname "$0")/lib.inc"
E=$ESPSEC
cd "$T"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out server_root_cert.pem \
    -subj "/O=espsec test/CN=Embed Root" -days 3650 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca2.key -out second.pem -subj "/CN=Second Root" -days 30 2>/dev/null
head -c 1000 /dev/urandom >blob.bin
printf '\x00\x01\x02' >>blob.bin

ok $E embed --text server_root_cert.pem --output cert.S
contains cert.S "^_binary_server_root_cert_pem_start:"
contains cert.S "^_binary_server_root_cert_pem_end:"
ok $E embed --text server_root_cert.pem -o cert.c
ok $E embed blob.bin -o blob.S
ok $E embed blob.bin -o blob.c
cat >reader.c <<'C'
#include <stdio.h>
#include <stdint.h>
#include <string.h>
extern const uint8_t cert_start[] asm("_binary_server_root_cert_pem_start");
extern const uint8_t cert_end[] asm("_binary_server_root_cert_pem_end");
extern const uint8_t blob_start[] asm("_binary_blob_bin_start");
extern const uint8_t blob_end[] asm("_binary_blob_bin_end");
int main(int argc, char **argv)
{
    /* the text embeds end with a NUL: the data is a C string */
    if (cert_end[-1] != 0 || strlen((const char *)cert_start) + 1 != (size_t)(cert_end - cert_start)) return 3;
    FILE *f = fopen(argv[1], "rb"); uint8_t buf[4096]; size_t n = fread(buf, 1, sizeof buf, f); fclose(f);
    if (n + 1 != (size_t)(cert_end - cert_start) || memcmp(buf, cert_start, n)) return 4;
    f = fopen(argv[2], "rb"); n = fread(buf, 1, sizeof buf, f); fclose(f);
    if (n != (size_t)(blob_end - blob_start) || memcmp(buf, blob_start, n)) return 5;
    (void)argc;
    return 0;
}
C
CHECKS=$((CHECKS + 1))
cc -o reader_s reader.c cert.S blob.S 2>cc.err && ./reader_s server_root_cert.pem blob.bin || fail "the .S embeds do not read back ($(cat cc.err))"
CHECKS=$((CHECKS + 1))
cc -o reader_c reader.c cert.c blob.c 2>cc.err && ./reader_c server_root_cert.pem blob.bin || fail "the .c embeds do not read back ($(cat cc.err))"
# ESP-IDF's symbol naming: the file name made a C identifier (a leading digit gets '_')
cp blob.bin 9-data.file.bin
ok $E embed 9-data.file.bin -o n.S
contains n.S "_binary__9_data_file_bin_start"
bad "must end in .S" $E embed blob.bin -o blob.txt
bad "holds a NUL byte" $E embed --text blob.bin -o x.S
absent x.S
bad "nothere.pem: cannot open" $E embed nothere.pem -o y.S

# bundles: create, list, malformed
ok $E tls bundle create server_root_cert.pem second.pem --output bundle.bin
contains "$T/out" "2 certificates"
ok $E tls bundle list bundle.bin
contains "$T/out" "EC-256   CN=Embed Root,O=espsec test"
contains "$T/out" "RSA-2048 CN=Second Root"
head -c 10 bundle.bin >short.bin
bad "short.bin: .*runs past the end\|short.bin: .*outside" $E tls bundle list short.bin
printf 'junk' >junk.pem
bad "holds no certificate" $E tls bundle create junk.pem --output b2.bin
absent b2.bin
bad "exceed --max-certs 1" $E tls bundle create server_root_cert.pem second.pem --output b3.bin --max-certs 1
absent b3.bin
bad "'create' or 'list'" $E tls bundle show bundle.bin

# the client's refusals that need no server
bad "an https:// URL expected" $E tls get http://example.com/
bad "no CA certificate given" $E tls get https://localhost:1/
bad "port 1-65535" $E tls get https://localhost:99999/ --insecure
bad "ESP8266\|--output" $E tls fetch-ca localhost:1
ok $E tls --help
ok $E embed --help
finish
