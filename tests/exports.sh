#!/bin/sh
# SPDX-License-Identifier: ISC
# exports.sh: libprivaudit.so exports exactly the privaudit_* functions of
# privaudit.h (no other names, none of the protobuf-c privaudit__* code).
# Environment (set by make check): top_builddir, top_srcdir.

set -u

fail() { printf 'FAIL: exports.sh: %s\n' "$*" >&2; exit 1; }

lib=${top_builddir:-.}/.libs/libprivaudit.so
header=${top_srcdir:-.}/libprivaudit/privaudit.h
[ -f "$lib" ] || fail "$lib not found (built with --disable-shared?)"
[ -r "$header" ] || fail "$header not found"
command -v nm >/dev/null 2>&1 || fail "nm not found"

syms=$(nm -D --defined-only "$lib") || fail "nm -D $lib failed"
# T/t text, W/w weak, i indirect; names lose any @VERSION suffix
funcs=$(printf '%s\n' "$syms" |
	awk 'NF >= 3 && $2 ~ /^[TtWwi]$/ { sub(/@.*/, "", $3); print $3 }' | sort -u)
[ -n "$funcs" ] || fail "$lib exports no functions"

bad=$(printf '%s\n' "$funcs" | grep -v '^privaudit_' ; printf '%s\n' "$funcs" | grep '^privaudit__')
if [ -n "$bad" ]; then
	printf 'FAIL: exports.sh: %s exports functions outside the API:\n' "$lib" >&2
	printf '%s\n' "$bad" | sed 's/^/  /' >&2
	exit 1
fi

declared=$(sed -n 's/^PRIVAUDIT_EXPORT.*[ *]\(privaudit_[a-z0-9_]*\)(.*/\1/p' "$header" | sort -u)
[ -n "$declared" ] || fail "no PRIVAUDIT_EXPORT declarations found in $header"
missing=$(printf '%s\n' "$declared" | grep -vxF "$funcs")
if [ -n "$missing" ]; then
	printf 'FAIL: exports.sh: declared in privaudit.h but not exported:\n' >&2
	printf '%s\n' "$missing" | sed 's/^/  /' >&2
	exit 1
fi
extra=$(printf '%s\n' "$funcs" | grep -vxF "$declared")
if [ -n "$extra" ]; then
	printf 'FAIL: exports.sh: exported but not declared in privaudit.h:\n' >&2
	printf '%s\n' "$extra" | sed 's/^/  /' >&2
	exit 1
fi
printf 'ok - %s exports the %s functions of privaudit.h and nothing else\n' \
	"$lib" "$(printf '%s\n' "$funcs" | wc -l)"
exit 0
