#!/bin/bash
# SPDX-License-Identifier: ISC
# key-erasure.sh: no used signing key survives on the device (privaudit-log(5),
# "Key file").  On a loop-mounted ext4 image, then on btrfs (log.key NOCOW),
# a seal is stopped at each state-changing system call in turn, killed there
# (SIGKILL) or failed there (EIO), with strace --inject.  After each fault the
# filesystem is unmounted and the raw image searched for every secret key the
# log ever wrote to log.key (strace records each byte written): none may be
# found but the current key and a prepared one that never signed.  Then the
# log must verify against its first key, seal, and verify again.  Also: plain
# seals on btrfs, a copy-on-write log.key moved to a NOCOW file, and the
# warning for ext4 data=journal (with how many used keys its journal kept).
# Root only (loop devices, mounts): exit 77 otherwise.
. "$(dirname "$0")/e2e-lib.sh"
need_privaudit
is_root || skip "needs root (loop devices and mounts)"
PA_KEYSCAN=${PA_KEYSCAN:-}
[ -n "$PA_KEYSCAN" ] && [ -x "$PA_KEYSCAN" ] || skip "PA_KEYSCAN is not set"
LIBTOOL=${top_builddir:-}/libtool
[ -x "$LIBTOOL" ] || skip "no libtool in top_builddir (run it from make check)"
for c in strace mkfs.ext4 losetup mount umount mountpoint lsattr; do
	command -v "$c" >/dev/null 2>&1 || skip "no $c"
done
[ -e /dev/loop-control ] || skip "no loop devices"
# The CLI's binary and library path, not libtool's wrapper script: strace
# would trace the wrapper's shell, and the wrapper costs a shell per call.
BIN=$("$LIBTOOL" --mode=execute sh -c 'printf %s "$1"' sh "$PRIVAUDIT") &&
	LIBPATH=$("$LIBTOOL" --mode=execute sh -c 'printf %s "${LD_LIBRARY_PATH:-}"' sh "$PRIVAUDIT") &&
	[ -x "$BIN" ] || skip "cannot find the binary behind $PRIVAUDIT"
cli() { run_cmd env LD_LIBRARY_PATH="$LIBPATH" "$BIN" "$@"; }
pa_host_lock

mnts=""
undo_mounts() {
	for m in $mnts; do
		mountpoint -q "$m" || continue
		# A sealer still running (the test stopped mid-call) keeps it
		# busy: wait a moment, then detach it lazily, so that removing
		# $TMP never reaches into it.
		umount "$m" 2>/dev/null || { sleep 1; umount "$m" 2>/dev/null; } || umount -l "$m"
	done
	for img in "$TMP"/*.img; do
		[ -e "$img" ] || continue
		for d in $(losetup -j "$img" | cut -d: -f1); do
			losetup -d "$d"
		done
	done
}
on_exit undo_mounts

# Killed at these (each one changes what is on disk, so a kill at any other
# call leaves what a kill at the next of these leaves); failed with EIO at
# these and at the calls that open, lock and look at files.
KILL_AT="pwrite64 write fdatasync fsync renameat unlinkat fchmod ftruncate"
EIO_AT="$KILL_AT openat fcntl ioctl fstatfs"

# traced ARGS...: run the CLI with ARGS under strace, which dumps every
# byte written; the keys written to log.key go to $keys_file.  With $inject
# set (SYSCALL:ACTION:when=N) the fault is injected.  Status in $rc.  (The
# subshell takes the shell's "Killed" notice for a SIGKILL; LeakSanitizer
# cannot run under ptrace, so a sanitizer build leaves it out here.)
keys_file=$TMP/written
inject=""
traced() {
	set -- strace -qq -o "$TMP/trace" -e trace="pwrite64,write${inject:+,${inject%%:*}}" \
		-e write=all ${inject:+-e "inject=$inject"} "$BIN" "$@"
	(LD_LIBRARY_PATH=$LIBPATH ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		timeout -k 5 "$PA_TIMEOUT" "$@" >"$TMP/out" 2>"$TMP/err"
	 exit $?) 2>/dev/null
	rc=$?
	[ "$rc" -ne 124 ] || fail_cmd "timed out: $*"
	"$PA_KEYSCAN" written "$TMP/trace" >>"$keys_file" || fail "pa-keyscan written failed"
}

# The keys log.key may hold now: the current one, and a next key a stopped
# seal prepared and never used.  The current one first.
allowed_keys() {
	"$PA_KEYSCAN" keys "$1" >"$TMP/keys" || fail "no current key in $1 after $what"
	cut -d' ' -f2 "$TMP/keys"
}

# check_image IMG ALLOWED...: no key ever written is in IMG but ALLOWED, and
# the first of those is (the search would find a key if there were one).
check_image() {
	local img=$1 cur=$2 hex count
	shift
	sort -u "$keys_file" >"$TMP/written.u"
	# shellcheck disable=SC2046
	"$PA_KEYSCAN" scan "$img" $(cat "$TMP/written.u") >"$TMP/scan" || fail "pa-keyscan scan failed"
	while read -r hex count; do
		case " $* " in *" $hex "*) continue ;; esac
		[ "$count" -eq 0 ] ||
			fail "$what: a used key ($hex) is on the raw $fs image ($count copies)"
	done <"$TMP/scan"
	grep -q "^$cur [1-9]" "$TMP/scan" ||
		fail "$what: the current key is not on the raw $fs image: the search is blind"
}

# After a seal (faulted or not): the image as the device holds it.
remount_check() {
	local allowed
	allowed=$(allowed_keys "$L")
	umount "$mnt" || fail "umount $mnt"
	# shellcheck disable=SC2086
	check_image "$img" $allowed
	mount -o loop "$img" "$mnt" || fail "mount $fs image again"
}

verify_ok() {
	cli verify "$L" --key "$pub" --quiet
	[ "$rc" -eq 0 ] || fail_cmd "$what: the log does not verify (exit $rc)"
}

seal_ok() {
	traced seal "$L"
	[ "$rc" -eq 0 ] || fail_cmd "$what: seal failed (exit $rc)"
	[ ! -s "$TMP/err" ] || fail_cmd "$what: seal warned"
}

# make_fs FS SIZE MKFS...: a fresh image mounted at $mnt
make_fs() {
	fs=$1
	img=$TMP/$1.img
	mnt=$TMP/$1.mnt
	truncate -s "$2" "$img" || fail "truncate $img"
	shift 2
	"$@" "$img" >"$TMP/mkfs.out" 2>&1 || { cat "$TMP/mkfs.out" >&2; fail "$* failed"; }
	mkdir -p "$mnt"
	mnts="$mnts $mnt"
	mount -o "loop${mount_opts:+,$mount_opts}" "$img" "$mnt" || fail "mount -o loop $fs image"
	L=$mnt/log
	: >"$keys_file"
	what="init on $fs"
	traced init "$L"
	[ "$rc" -eq 0 ] || fail_cmd "privaudit init on $fs (exit $rc)"
	pub=$TMP/$fs.pub
	cp "$L/log.pub" "$pub" || fail "copy log.pub"
}

# The faults: every call of KILL_AT killed, every call of EIO_AT failed, in
# turn, each time from a log sealed without fault.
fault_seals() {
	local action sys n list faults=0
	for action in signal=KILL error=EIO; do
		list=$KILL_AT
		[ "$action" = error=EIO ] && list=$EIO_AT
		for sys in $list; do
			n=1
			while :; do
				what="$fs: seal with $sys call $n ${action#*=}"
				cli append "$L" "before $what"
				[ "$rc" -eq 0 ] || fail_cmd "append"
				inject="$sys:$action:when=$n"
				traced seal "$L"
				inject=""
				if ! grep -q 'INJECTED\|+++ killed by SIGKILL' "$TMP/trace"; then
					# fewer calls than n: the seal ran whole
					[ "$rc" -eq 0 ] || fail_cmd "$fs: seal failed with no fault (exit $rc)"
					break
				fi
				n=$((n + 1))
				# A library the loader could not open: the log was
				# never touched.
				if grep 'INJECTED' "$TMP/trace" | grep -q 'openat(AT_FDCWD, "/' &&
				   ! grep 'INJECTED' "$TMP/trace" | grep -qF "\"$mnt"; then
					continue
				fi
				faults=$((faults + 1))
				remount_check
				verify_ok
				what="$what, then a seal"
				seal_ok
				verify_ok
			done
		done
	done
	say "# $fs: $faults seals stopped by a fault"
	[ "$faults" -ge 20 ] || fail "$fs: only $faults faults injected: strace --inject did not work"
}

# ------------------------------------------------------------------ ext4
make_fs ext4 64M mkfs.ext4 -q -F -b 4096
[ ! -s "$TMP/err" ] || fail_cmd "init on ext4 warned"
what="ext4: plain seals"
for i in 1 2 3; do seal_ok; done
remount_check
fault_seals
remount_check
verify_ok
pass "ext4: no used key on the device after $(sort -u "$keys_file" | wc -l) keys and a fault at each system call of the seal"
umount "$mnt"

# ext4 data=journal: the journal keeps copies of what log.key was, so init
# and every seal warn.  How many used keys it kept is printed, not judged.
mount_opts=data=journal make_fs ext4j 64M mkfs.ext4 -q -F -b 4096
grep -q 'warning: .*data=journal' "$TMP/err" || fail_cmd "init on ext4 data=journal did not warn"
what="ext4 data=journal: seal"
for i in 1 2 3 4 5; do
	traced seal "$L"
	[ "$rc" -eq 0 ] || fail_cmd "seal on data=journal"
	grep -q 'warning: .*data=journal' "$TMP/err" || fail_cmd "seal on ext4 data=journal did not warn"
done
cur=$(allowed_keys "$L" | head -1)
umount "$mnt"
sort -u "$keys_file" >"$TMP/written.u"
# shellcheck disable=SC2046
"$PA_KEYSCAN" scan "$img" $(cat "$TMP/written.u") >"$TMP/scan" || fail "pa-keyscan scan failed"
kept=$(grep -v "^$cur " "$TMP/scan" | awk '$2 > 0' | wc -l)
say "# ext4 data=journal: $kept of $(($(wc -l <"$TMP/scan") - 1)) used keys still on the device (hence the warning)"
pass "ext4 data=journal: init and every seal warn"
mount_opts=""

# ------------------------------------------------------------------ btrfs
if ! command -v mkfs.btrfs >/dev/null 2>&1 || ! grep -qw btrfs /proc/filesystems; then
	modprobe btrfs 2>/dev/null
	command -v mkfs.btrfs >/dev/null 2>&1 && grep -qw btrfs /proc/filesystems ||
		skip "ext4 passed; no btrfs here (mkfs.btrfs, kernel module) for the rest"
fi
make_fs btrfs 128M mkfs.btrfs -q -f
[ ! -s "$TMP/err" ] || fail_cmd "init on btrfs warned"
lsattr "$L/log.key" | grep -q '^[^ ]*C' || fail "btrfs: log.key is not NOCOW: $(lsattr "$L/log.key")"
what="btrfs: plain seals"
for i in $(seq 1 10); do seal_ok; done
remount_check
pass "btrfs: no used key on the device after 10 seals (log.key NOCOW)"
fault_seals
remount_check
verify_ok
pass "btrfs: no used key on the device after $(sort -u "$keys_file" | wc -l) keys and a fault at each system call of the seal"

# A log.key that is copy-on-write (made by hand, or before NOCOW) is moved
# to a NOCOW file by the next seal, without a warning.  Its own keys are
# not searched for: making it copied the key by hand.
keys_file=$TMP/written-cow
L=$mnt/cowlog
what="btrfs: copy-on-write log.key"
traced init "$L"
[ "$rc" -eq 0 ] || fail_cmd "init"
pub=$TMP/cowlog.pub
cp "$L/log.pub" "$pub" || fail "copy log.pub"
cp "$L/log.key" "$TMP/key" && rm "$L/log.key" && cp "$TMP/key" "$L/log.key" && chmod 600 "$L/log.key" ||
	fail "making a copy-on-write log.key"
! lsattr "$L/log.key" | grep -q '^[^ ]*C' || fail "the hand-made log.key is NOCOW already"
seal_ok
lsattr "$L/log.key" | grep -q '^[^ ]*C' || fail "btrfs: the next seal did not move log.key to a NOCOW file"
[ ! -e "$L/log.key.new" ] || fail "btrfs: log.key.new left behind"
verify_ok
pass "btrfs: a copy-on-write log.key is moved to a NOCOW file by the next seal"
exit 0
