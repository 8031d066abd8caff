#!/bin/bash
# SPDX-License-Identifier: ISC
# sudo-io.sh: sudo_privaudit.so in real sudo, driven through a pty as an
# administrator would use it, writing through a privauditd started here.
#
# An interactive `sudo -i` (tests/pty-drive.py): commands typed, a password
# typed with echo off (read -s), coloured output, vi moving the cursor on
# the alternate screen, a program printing OSC, CSI and DCS sequences.
# Then, as the auditor:
#   - replay --tty --screen equals the screen the session ended with;
#   - no escape sequence of the recording reaches the auditor's terminal
#     (frames and screen modes hold no ESC, BEL or C1 byte), while --raw
#     shows they were recorded;
#   - the typed input is sealed to the auditors' key: the log's files do
#     not hold it, replay without the key says it is sealed, with the key
#     it shows it, with another key it names both key ids;
#   - one flipped byte in an I/O record makes verify fail;
#   - with privauditd gone, failmode=open lets sudo run and failmode=closed
#     refuses the command, within the timeout, without a word on the
#     user's terminal from the plugin beyond sudo's own error.
# Needs root (exit 77 otherwise).  /etc/sudo.conf is put back byte for byte
# by the EXIT trap, even on failure; the daemon is killed by pid.
# Environment (set by make check): SUDO_PLUGIN, PRIVAUDIT, PRIVAUDITD,
# PYTHON3.

pa_test=sudo-io
. "$(dirname "$0")/e2e-lib.sh"

is_root || skip "needs root"
need_daemon
need_privaudit
need_python
SUDO_PLUGIN=${SUDO_PLUGIN:-$top_builddir/sudo_privaudit/.libs/sudo_privaudit.so}
case $SUDO_PLUGIN in /*) ;; *) SUDO_PLUGIN=$(pwd)/$SUDO_PLUGIN ;; esac
[ -f "$SUDO_PLUGIN" ] || fail "plugin not built: $SUDO_PLUGIN"
# sudo cannot load a plugin built with --enable-sanitizers (the ASan
# runtime must come first): the normal build covers it.
ldd "$SUDO_PLUGIN" 2>/dev/null | grep -q 'libasan\.so' && skip "sanitizer build: sudo cannot load an ASan plugin"
for t in sudo vi cmp; do
	command -v "$t" >/dev/null 2>&1 || skip "missing $t (Debian: sudo vim-tiny)"
done
DRIVE="$PYTHON3 $pa_here/pty-drive.py"
pa_host_lock

# sudo.conf: saved, replaced for the test, restored by the trap.
conf=/etc/sudo.conf
if [ -e "$conf" ]; then
	cp -p "$conf" "$TMP/sudo.conf.orig" || fail "cannot save $conf"
	on_exit "cp -p '$TMP/sudo.conf.orig' '$conf'"
else
	on_exit "rm -f '$conf'"
fi
use_plugin() {
	cat >"$conf.pa-new" <<EOF || fail "cannot write $conf"
# privaudit-test: written by tests/sudo-io.sh, put back when it ends
Plugin sudoers_policy sudoers.so
Plugin sudoers_io sudoers.so
Plugin sudoers_audit sudoers.so
Plugin privaudit_io $SUDO_PLUGIN $*
EOF
	mv "$conf.pa-new" "$conf" || fail "cannot write $conf"
}

log=$TMP/log sock=$TMP/pd.sock
pa_init "$log"
pa_daemon_start "$log" "$sock"
expect 0 "$PRIVAUDIT" keygen-auditor --out "$TMP/auditor"
[ "$(stat -c %a "$TMP/auditor")" = 600 ] || fail "the auditor's secret key is not mode 600"
grep -q '^privaudit-auditor-x25519 ' "$TMP/auditor.pub" || fail "no public key line in auditor.pub"
keyid=$(sed -n 's/^key id: *//p' "$TMP/out")
[ -n "$keyid" ] || fail_cmd "keygen-auditor printed no key id"
use_plugin "socket=$sock seal_input_to=$TMP/auditor.pub"
sudo true || fail "sudo true fails with the plugin configured"

# The session.  Each step waits for what a person would wait for; a command
# is known to be done when its output (not the echo of its typing) shows.
secret=hunter2-$$-SECRET
vifile=$TMP/vi.txt
run_cmd $DRIVE --timeout 30 --transcript "$TMP/transcript" \
	'expect:[#$] ' "send:PS1='PROMPT> '\\r" 'expect:PROMPT> ' \
	"send:read -s PW; echo got-\${#PW}-chars\\r" 'sleep:0.3' "send:$secret\\r" "expect:got-${#secret}-chars" \
	"send:vi -u NONE -N $vifile\\r" 'sleep:0.7' 'send:iTYPED-IN-VI\e' 'sleep:0.2' 'send::wq\r' 'expect:written' \
	'sleep:1' 'send:echo DONE-$((1+1))\r' 'expect:DONE-2\r\n' 'expect:PROMPT> ' \
	'winsize:30x100' 'sleep:0.3' \
	"send:printf '\\\\033[2J\\\\033[H\\\\033[1;31mRED-TEXT\\\\033[0m\\\\n\\\\033[5;90HMOVED-HERE\\\\033]0;EVIL-TITLE\\\\007\\\\033]52;c;ZXZpbA==\\\\007\\\\033P1\$qm\\\\033\\\\\\\\\\\\033[6n'; echo DONE-\$((1+2))\\r" \
	'expect:DONE-3\r\n' 'expect:PROMPT> ' 'sleep:0.5' 'send:exit\r' -- sudo -i
[ "$rc" -eq 0 ] || fail_cmd "the sudo -i session failed (exit $rc)"
[ "$(cat "$vifile")" = TYPED-IN-VI ] || fail "vi did not write the file: the session did not run as typed"
grep -aq "got-${#secret}-chars" "$TMP/transcript" || fail "read -s did not get the password"

# Seal the log (SIGTERM) and verify it against its first key.
pa_daemon_stop
verify_ok "$log"

expect 0 "$PRIVAUDIT" sessions "$log"
sid=$(awk 'NR > 1 && $0 ~ / sudo / { print $1; exit }' "$TMP/out")
[ -n "$sid" ] || fail_cmd "no sudo session listed"
grep -q 'root -> root' "$TMP/out" || fail_cmd "the session does not say who ran sudo as whom"

# 1. The final screen, as the administrator's terminal showed it when the
# shell exited: the window had grown to 100 columns (MOVED-HERE starts at
# column 90 and runs on: at 80 columns it could not), the printf cleared
# it, drew two lines, echo went on after MOVED-HERE (wrapping), then the
# prompt, exit, and bash's logout.
expect 0 "$PRIVAUDIT" replay "$log" "$sid" --tty --screen
printf '%s\n' 'RED-TEXT' '' '' '' "$(printf '%89s' '')MOVED-HERED" 'ONE-3' 'PROMPT> exit' 'logout' \
	>"$TMP/want-screen"
cmp -s "$TMP/out" "$TMP/want-screen" || {
	diff "$TMP/want-screen" "$TMP/out" >&2
	fail "replay --screen is not the screen the session ended with"
}

# 2. Nothing of the recording acts on the auditor's terminal.
no_escapes() {
	"$PYTHON3" - "$1" <<'EOF' || fail "$2"
import sys
data = open(sys.argv[1], 'rb').read()
bad = [b for b in (0x1b, 0x07, 0x9b, 0x90, 0x9d) if bytes([b]) in data]
bad += [c for c in ('\u009b', '\u0090', '\u009d') if c in data.decode('utf-8', 'replace')]
sys.exit(1 if bad else 0)
EOF
}
no_escapes "$TMP/out" "replay --screen printed escape sequences"
expect 0 "$PRIVAUDIT" replay "$log" "$sid" --tty --speed 1000
no_escapes "$TMP/out" "replay --tty (frames) printed escape sequences of the recording"
grep -q 'TYPED-IN-VI' "$TMP/out" || fail_cmd "the frames never show vi's screen"
grep -q '^--- +[0-9.]*s ---$' "$TMP/out" || fail_cmd "frames have no time headers"
grep -q 'EVIL-TITLE' "$TMP/out" && fail_cmd "an OSC title reached the output"
expect 0 "$PRIVAUDIT" replay "$log" "$sid" --tty --raw --speed 1000
grep -aq $'\e]0;EVIL-TITLE\a' "$TMP/out" || fail_cmd "--raw does not pass the recorded bytes"
grep -aq $'\e\[1;31mRED-TEXT' "$TMP/out" || fail_cmd "--raw lost the colour sequence"

# 3. The keystrokes are sealed: not in the log's files, not in any reader
# without the key; opened with it; another key is named as such.
grep -raq "$secret" "$log" && fail "the typed password is in the log's files in clear"
expect 0 "$PRIVAUDIT" export "$log"
grep -aq "$secret" "$TMP/out" && fail "export shows the sealed password"
expect 0 "$PRIVAUDIT" replay "$log" "$sid"
grep -aq "$secret" "$TMP/out" && fail "replay shows the sealed password without the key"
grep -q 'sealed to the auditors' "$TMP/out" || fail_cmd "replay does not say the input is sealed"
expect 0 "$PRIVAUDIT" replay "$log" "$sid" --decrypt-key "$TMP/auditor"
grep -aq "$secret" "$TMP/out" || fail_cmd "replay --decrypt-key does not show the typed password"
grep -aq 'vi -u NONE' "$TMP/out" || fail_cmd "replay --decrypt-key does not show the typed commands"
expect 0 "$PRIVAUDIT" keygen-auditor --out "$TMP/other"
otherid=$(sed -n 's/^key id: *//p' "$TMP/out")
expect 0 "$PRIVAUDIT" replay "$log" "$sid" --decrypt-key "$TMP/other"
grep -aq "$secret" "$TMP/out" && fail "another auditor key opened the input"
grep -q "$keyid" "$TMP/err" && grep -q "$otherid" "$TMP/err" ||
	fail_cmd "a wrong --decrypt-key does not name both key ids"
chmod 644 "$TMP/auditor"
expect 2 "$PRIVAUDIT" replay "$log" "$sid" --decrypt-key "$TMP/auditor"
grep -q 'others may read' "$TMP/err" || fail_cmd "a secret key others may read is not refused"
chmod 600 "$TMP/auditor"

# Output sealed too (seal_output=yes): nothing of it without the key.
pa_daemon_start "$log" "$sock"
use_plugin "socket=$sock seal_input_to=$TMP/auditor.pub seal_output=yes"
# (the output joins two arguments: the log's io_open holds them apart)
run_cmd $DRIVE --timeout 20 -- sudo printf '%s-%s\n' SEALED-OUT "$$"
[ "$rc" -eq 0 ] || fail_cmd "sudo with seal_output=yes failed"
pa_daemon_stop
grep -raq "SEALED-OUT-$$" "$log" && fail "output sealed with seal_output=yes is in the log's files in clear"
expect 0 "$PRIVAUDIT" sessions "$log"
sid2=$(awk 'NR > 1 && $0 ~ / sudo / { print $1; exit }' "$TMP/out")
[ -n "$sid2" ] && [ "$sid2" != "$sid" ] || fail_cmd "the second sudo session is not listed"
expect 0 "$PRIVAUDIT" replay "$log" "$sid2" --tty --screen
grep -q "SEALED-OUT-$$" "$TMP/out" && fail_cmd "replay shows sealed output without the key"
grep -q 'sealed to the auditors' "$TMP/err" || fail_cmd "replay does not say the output is sealed"
expect 0 "$PRIVAUDIT" replay "$log" "$sid2" --tty --screen --decrypt-key "$TMP/auditor"
grep -q "^SEALED-OUT-$$\$" "$TMP/out" || fail_cmd "replay --decrypt-key does not show the sealed output"
verify_ok "$log"

# 4. One flipped byte in an io_chunk record: verify fails.
cp -a "$log" "$TMP/tampered"
seg=$(ls "$TMP/tampered"/seg-* | head -1)
"$PYTHON3" - "$seg" <<'EOF' || fail "no recorded output to flip a byte of"
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
i = b.find(b'MOVED-HERE')
if i < 0:
    sys.exit(1)
b[i] ^= 0x01
open(p, 'wb').write(bytes(b))
EOF
run_cmd "$PRIVAUDIT" verify "$TMP/tampered" --key "$log.vkey"
[ "$rc" -ne 0 ] || fail_cmd "verify passed a log with an I/O record changed"

# 5. privauditd gone: failmode=open runs the command, failmode=closed
# refuses it, both within the timeout.
use_plugin "socket=$TMP/none.sock failmode=open timeout=500"
start=$(date +%s)
run_cmd sudo echo still-runs
[ "$rc" -eq 0 ] && grep -q still-runs "$TMP/out" || fail_cmd "failmode=open: sudo did not run the command"
use_plugin "socket=$TMP/none.sock failmode=closed timeout=500"
run_cmd sudo echo must-not-run
[ "$rc" -ne 0 ] || fail_cmd "failmode=closed: sudo ran the command with privauditd gone"
grep -q must-not-run "$TMP/out" && fail_cmd "failmode=closed: the command ran"
[ $(($(date +%s) - start)) -le 10 ] || fail "sudo waited too long for a missing privauditd"
# A daemon that takes the connection and never answers: sudo goes on after
# the timeout.
"$PYTHON3" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(8)
conns = []
end = time.time() + 60
while time.time() < end:
    s.settimeout(1)
    try:
        conns.append(s.accept()[0])
    except OSError:
        pass
' "$TMP/stall.sock" &
stall=$!
on_exit "kill $stall"
for _ in $(seq 100); do [ -S "$TMP/stall.sock" ] && break; sleep 0.05; done
use_plugin "socket=$TMP/stall.sock failmode=open timeout=500"
start=$(date +%s)
run_cmd sudo echo not-held-up
[ "$rc" -eq 0 ] && grep -q not-held-up "$TMP/out" || fail_cmd "a stalled privauditd broke sudo"
[ $(($(date +%s) - start)) -le 5 ] || fail "a stalled privauditd held sudo up for more than 5 s"
kill "$stall" 2>/dev/null
use_plugin "socket=$sock bogus-option"
run_cmd sudo true
[ "$rc" -ne 0 ] || fail_cmd "a bad option in sudo.conf was accepted"

pass "sudo -i through sudo_privaudit.so: screen, escapes, sealed input, tamper, failmodes"
