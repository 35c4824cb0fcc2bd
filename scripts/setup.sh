#!/usr/bin/env bash
# Install the Debian packages espsec needs, only those missing (run as root on
# a fresh Debian 12; a no-op when everything is there).
set -euo pipefail
PKGS=(build-essential cmake pkg-config libssl-dev openssl clang clang-tidy libclang-rt-14-dev python3 nginx softhsm2 opensc time
      python3-pytest python3-cryptography python3-ecdsa python3-intelhex python3-serial python3-yaml python3-bitstring python3-click python3-rich
      python3-pyelftools  # esptool's test_imagegen.py reads ELF files with it (tests/esptool)
      zsh fish)  # zsh, fish: tests/pkg/docs.py runs the completions
# the long tests also run a single-node Slurm (tests/long/mfg_slurm.sh)
if [ "${ESPSEC_LONG:-0}" = 1 ]; then
    PKGS+=(slurmctld slurmd slurm-client munge)
fi
missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "espsec setup: installing ${missing[*]}"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
