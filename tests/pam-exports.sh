#!/bin/sh
# SPDX-License-Identifier: ISC
# pam-exports.sh: pam_privaudit.so exports the PAM entry points it
# implements and nothing else (no helper symbols a host process could bind
# to by accident), needs no library but libpam and libc (DT_NEEDED: none of
# libprivaudit, libsodium, libprotobuf-c), and it loads with
# dlopen(RTLD_NOW), as libpam loads it, with no undefined symbol left.
# Environment (set by make check): top_builddir, PAM_MODULE, PYTHON3.

set -u

me=pam-exports.sh
fail() { printf 'FAIL: %s: %s\n' "$me" "$*" >&2; exit 1; }
skip() { printf 'SKIP: %s: %s\n' "$me" "$*" >&2; exit 77; }

top_builddir=${top_builddir:-.}
mod=${PAM_MODULE:-$top_builddir/pam_privaudit/.libs/pam_privaudit.so}
[ -f "$mod" ] || fail "$mod not found (built with --disable-shared?)"
command -v nm >/dev/null 2>&1 || skip "nm not found"

# --- exports
# Entry points the module implements; libpam needs no others from it.
required="pam_sm_acct_mgmt pam_sm_authenticate pam_sm_close_session pam_sm_open_session pam_sm_setcred"
# What a PAM module may export at all.
allowed="$required pam_sm_chauthtok"
# Symbols some toolchains add to every shared object.
toolchain="_init _fini _edata _end __bss_start"

syms=$(nm -D --defined-only "$mod") || fail "nm -D $mod failed"
# "ADDRESS TYPE NAME" (or "TYPE NAME" for absolute version nodes); names
# lose any @VERSION suffix
names=$(printf '%s\n' "$syms" | awk 'NF >= 2 { n = $NF; sub(/@.*/, "", n); print $(NF-1), n }')
bad=""
while read -r type name; do
	[ -n "$name" ] || continue
	case " $allowed " in *" $name "*) continue ;; esac
	case " $toolchain " in *" $name "*) continue ;; esac
	# a version node of the module's own version script ("A NAME")
	[ "$type" = A ] && continue
	bad="$bad $name($type)"
done <<EOF
$names
EOF
[ -z "$bad" ] || fail "$mod exports symbols other than pam_sm_*:$bad"
for f in $required; do
	printf '%s\n' "$names" | grep -q "^[TtWwi] $f\$" || fail "$mod does not export $f"
done
n=$(printf '%s\n' "$names" | grep -c ' pam_sm_')
printf 'ok - %s exports only its %s pam_sm_* entry points\n' "$mod" "$n"

# --- links libpam and libc only
# The module is a thin client of privauditd: the log's code and its crypto
# (libprivaudit, libsodium, libprotobuf-c) must not be loaded into every
# sshd, sudo and su.  Sanitizer runtimes come with --enable-sanitizers.
if command -v readelf >/dev/null 2>&1; then
	needed=$(LC_ALL=C readelf -d "$mod" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p') ||
		fail "readelf -d $mod failed"
elif command -v objdump >/dev/null 2>&1; then
	needed=$(LC_ALL=C objdump -p "$mod" | awk '$1 == "NEEDED" { print $2 }') ||
		fail "objdump -p $mod failed"
else
	skip "neither readelf nor objdump found"
fi
[ -n "$needed" ] || fail "no DT_NEEDED entry read from $mod (not even libc)"
bad=""
for lib in $needed; do
	case $lib in
	*privaudit* | *sodium* | *protobuf*) fail "$mod needs $lib: the module must not link the log's libraries" ;;
	libpam.so.* | libc.so.* | libasan.so.* | libubsan.so.*) ;;
	*) bad="$bad $lib" ;;
	esac
done
[ -z "$bad" ] || fail "$mod needs more than libpam and libc:$bad"
printf 'ok - %s needs only: %s\n' "$mod" "$(echo $needed)"

# --- loads with every symbol resolved, as libpam's dlopen(RTLD_NOW) does
PYTHON3=${PYTHON3:-python3}
command -v "$PYTHON3" >/dev/null 2>&1 || skip "python3 not found ($PYTHON3)"
# an AddressSanitizer build (--enable-sanitizers) loads only after its runtime
asan=$(ldd "$mod" 2>/dev/null | awk '/libasan\.so/ { print $3; exit }')
out=$(env LD_LIBRARY_PATH="$top_builddir/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
	${asan:+LD_PRELOAD=$asan ASAN_OPTIONS=detect_leaks=0} \
	"$PYTHON3" - "$mod" $required <<'EOF' 2>&1
import ctypes, os, sys
path = sys.argv[1]
try:
    lib = ctypes.CDLL(path, mode=os.RTLD_NOW | os.RTLD_LOCAL)
except OSError as e:
    sys.exit("dlopen(RTLD_NOW) failed: %s" % e)
for name in sys.argv[2:]:
    if not hasattr(lib, name):
        sys.exit("dlsym(%s) failed" % name)
print("%d entry points resolved" % (len(sys.argv) - 2))
EOF
) || fail "$out"
printf 'ok - %s loads with RTLD_NOW: %s\n' "$mod" "$out"

# --- and nothing it needs is left to the host program to provide
if command -v ldd >/dev/null 2>&1; then
	und=$(LD_LIBRARY_PATH="$top_builddir/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
		ldd -r "$mod" 2>&1 | grep -E 'undefined symbol|not found')
	[ -z "$und" ] || fail "ldd -r $mod: $und"
	printf 'ok - ldd -r %s: every symbol and library resolved\n' "$mod"
fi
exit 0
