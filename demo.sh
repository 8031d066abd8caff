#!/bin/bash
# SPDX-License-Identifier: ISC
# demo.sh: from a checkout to a signed log being written, sealed and
# verified, and a tampered copy failing verification.  As root it first
# installs the build dependencies with apt-get.
set -euo pipefail

top=$(cd "$(dirname "$0")" && pwd)
build=${BUILD_DIR:-$top/_build/demo}

if [ "$(id -u)" = 0 ]; then
	pkgs=(build-essential autoconf automake libtool pkg-config libsodium-dev
	      libprotobuf-c-dev protobuf-c-compiler libcmocka-dev libpam0g-dev python3)
	missing=()
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	if [ "${#missing[@]}" -gt 0 ]; then
		echo "== installing ${missing[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
	fi
fi

echo "== building in $build"
(cd "$top" && autoreconf -fi >/dev/null 2>&1)
mkdir -p "$build"
(cd "$build" && "$top/configure" -q && make -s -j"$(nproc)" >/dev/null)
pa="$build/cli/privaudit"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log="$work/log"

run() { printf '\n$ %s\n' "$*"; "$@"; }

run "$pa" init "$log" --origin demo.example/privaudit
cp "$log/log.pub" "$work/pinned.pub"      # in real life: kept off the host
run "$pa" append "$log" "alice ran: systemctl restart sshd"
printf 'line %s from a script\n' 1 2 3 | "$pa" append "$log" --tag backup.sh
echo "(appended 3 lines from a script)"
run "$pa" seal "$log"
cp "$log/checkpoint" "$work/seen.checkpoint"  # a checkpoint shipped off the host
run "$pa" append "$log" "bob ran: visudo"
run "$pa" verify "$log" --key "$work/pinned.pub" --trusted "$work/seen.checkpoint"

echo
echo "== an insider edits a sealed record in a copy of the log"
cp -a "$log" "$work/tampered"
seg="$work/tampered/seg-0000000000000000"
off=$(grep -boa 'alice ran' "$seg" | head -n1 | cut -d: -f1)
printf 'eve  ran' | dd of="$seg" bs=1 seek="$off" conv=notrunc status=none
set +e
run "$pa" verify "$work/tampered" --key "$work/pinned.pub"
rc=$?
set -e
echo "(verify exit status: $rc)"
[ "$rc" -ne 0 ] || { echo "demo: tampering was not detected" >&2; exit 1; }
echo
echo "== done: the untouched log verified, the tampered copy did not"
