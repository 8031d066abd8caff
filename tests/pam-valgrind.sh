#!/bin/sh
# SPDX-License-Identifier: ISC
# pam-valgrind.sh: every test_pam case (the module loaded by the real
# libpam under pam_wrapper) under valgrind memcheck: no error and nothing
# definitely lost.  Skipped (77) without valgrind or under AddressSanitizer.
PA_VALGRIND=1 exec sh "$(dirname "$0")/pam-wrapper.sh"
