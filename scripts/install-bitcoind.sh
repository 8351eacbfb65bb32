#!/usr/bin/env bash
# Installs a regtest bitcoind for the sandbox and the tests, without touching the system.
#
# Debian 12 ships no bitcoind. Debian sid has Bitcoin Knots (a Bitcoin Core derivative) whose binaries
# need a newer C/C++ runtime than Debian 12 has, so this script downloads the .debs with a private apt
# configuration, unpacks them into one folder, and writes wrapper scripts that run the binaries with
# sid's own dynamic loader. Nothing is installed system-wide. Idempotent: a finished install is reused.
#
# Usage: install-bitcoind.sh [PREFIX]   (default: $PAYAIML_CACHE or ~/.cache/payaiml, + /bitcoind)
# Prints the path of the bitcoind wrapper on its last line.
set -euo pipefail

cache="${1:-${PAYAIML_CACHE:-$HOME/.cache/payaiml}/bitcoind}"
wrapper="$cache/bin/bitcoind"
if [ -x "$wrapper" ] && "$wrapper" -version >/dev/null 2>&1; then
  echo "$wrapper"
  exit 0
fi

packages=(bitcoin-knots libc6 libstdc++6 libgcc-s1 libevent-core-2.1-7t64 libevent-extra-2.1-7t64
  libevent-pthreads-2.1-7t64 libzmq5 libsodium26 libpgm-5.3-0t64 libnorm1t64 libbsd0 libmd0
  libgssapi-krb5-2 libkrb5-3 libk5crypto3 libcom-err2 libkrb5support0 libkeyutils1 libssl3t64
  libsqlite3-0)

work="$cache.work"
rm -rf "$work"
mkdir -p "$work/apt/lists/partial" "$work/apt/archives/partial" "$work/debs" "$work/root"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || { echo "install-bitcoind: $keyring is missing (apt-get install debian-archive-keyring)" >&2; exit 1; }
# The same Debian mirror as the machine's own apt sources (a machine may only reach its own mirror):
# the first deb822 `URIs:` of a source with a Debian suite, else the first `deb` line of
# sources.list whose path ends in /debian.
mirror=""
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  mirror="$(awk 'BEGIN{RS=""} /Suites:[^\n]*(bookworm|trixie|sid|stable|testing|unstable)([ \n]|$)/ && !/debian-security/ {
      if (match($0, /URIs:[ \t]*[^ \t\n]+/)) { u=substr($0, RSTART, RLENGTH); sub(/URIs:[ \t]*/, "", u); print u; exit } }' "$f")"
  [ -n "$mirror" ] && break
done
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
  mirror="$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):\/\/.*\/debian\/?$/) { print $i; exit } }' /etc/apt/sources.list)"
fi
[ -n "$mirror" ] || { echo "install-bitcoind: no Debian mirror found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list" >&2; exit 1; }
echo "install-bitcoind: using the machine's Debian mirror $mirror" >&2
echo "deb [signed-by=$keyring] ${mirror%/} sid main" > "$work/apt/sources.list"
apt_opts=(-o "Dir::Etc::sourcelist=$work/apt/sources.list" -o "Dir::Etc::sourceparts=-"
  -o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache::archives=$work/apt/archives"
  -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
echo "install-bitcoind: reading Debian sid's package list" >&2
apt-get "${apt_opts[@]}" -qq update >&2
echo "install-bitcoind: downloading ${#packages[@]} packages" >&2
(cd "$work/debs" && apt-get "${apt_opts[@]}" -qq download "${packages[@]}" >&2)
for deb in "$work"/debs/*.deb; do dpkg -x "$deb" "$work/root"; done

rm -rf "$cache"
mkdir -p "$cache/bin"
mv "$work/root" "$cache/root"
rm -rf "$work"
for tool in bitcoind bitcoin-cli; do
  cat > "$cache/bin/$tool" <<WRAP
#!/bin/sh
# Runs Debian sid's $tool with sid's own loader and libraries (see scripts/install-bitcoind.sh).
root="$cache/root"
exec "\$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --library-path "\$root/usr/lib/x86_64-linux-gnu" "\$root/usr/bin/$tool" "\$@"
WRAP
  chmod +x "$cache/bin/$tool"
done
"$wrapper" -version | head -1 >&2
echo "$wrapper"
