# SPDX-License-Identifier: ISC
# Warning and hardening flags, probed one by one so an older compiler still builds.
AC_DEFUN([PA_ADD_CFLAG], [
  AC_MSG_CHECKING([whether $CC accepts $2])
  pa_save_CFLAGS="$CFLAGS"
  CFLAGS="$CFLAGS -Werror $2"
  AC_LINK_IFELSE([AC_LANG_PROGRAM([], [])],
    [AC_MSG_RESULT([yes]); $1="$$1 $2"], [AC_MSG_RESULT([no])])
  CFLAGS="$pa_save_CFLAGS"
])

AC_DEFUN([PA_ADD_LDFLAG], [
  AC_MSG_CHECKING([whether the linker accepts $2])
  pa_save_LDFLAGS="$LDFLAGS"
  LDFLAGS="$LDFLAGS -Werror $2"
  AC_LINK_IFELSE([AC_LANG_PROGRAM([], [])],
    [AC_MSG_RESULT([yes]); $1="$$1 $2"], [AC_MSG_RESULT([no])])
  LDFLAGS="$pa_save_LDFLAGS"
])

AC_DEFUN([PA_WARN_CFLAGS], [
  WARN_CFLAGS=""
  for f in -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wcast-qual -Wpointer-arith -Wwrite-strings \
           -Wvla -Wnull-dereference -Wswitch-enum -Wundef \
           -Wno-missing-field-initializers; do
    PA_ADD_CFLAG([WARN_CFLAGS], [$f])
  done
  AC_SUBST([WARN_CFLAGS])
])

AC_DEFUN([PA_HARDEN_CFLAGS], [
  HARDEN_CFLAGS=""
  HARDEN_LDFLAGS=""
  for f in -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
           -fstack-clash-protection -fcf-protection -fno-strict-overflow; do
    PA_ADD_CFLAG([HARDEN_CFLAGS], [$f])
  done
  for f in -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack; do
    PA_ADD_LDFLAG([HARDEN_LDFLAGS], [$f])
  done
  AC_SUBST([HARDEN_CFLAGS])
  AC_SUBST([HARDEN_LDFLAGS])
])
