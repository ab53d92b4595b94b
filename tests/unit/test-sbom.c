/* Unit tests for the SBOMs' reading of an rpm's License tag
 * (sbom_spdx_expression() in src/lib/pipeline/sbom.c, the SPDX license
 * list in spdx-license.c): what is an SPDX license expression, how it is
 * spelled back, and what is not one (Callaway names, lowercase operators,
 * broken syntax, ids off the list). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "basic/strv.h"
#include "pipeline/sbom.h"
#include "pipeline/spdx-license.h"
#include "test-util.h"

static void expression_is(const char *value, const char *want) {
        _cleanup_strv_free_ char **refs = NULL;
        _cleanup_free_ char *got = NULL;

        assert_int_equal(sbom_spdx_expression(value, &refs, &got), 1);
        assert_string_equal(got, want);
}

static void not_expression(const char *value) {
        _cleanup_strv_free_ char **refs = NULL;
        char *got = (char *) "unset";

        assert_int_equal(sbom_spdx_expression(value, &refs, &got), 0);
        assert_null(got);
        assert_null(refs); /* an expression that is not one names no LicenseRef */
}

static void test_license_list(void **state) {
        (void) state;
        assert_string_equal(spdx_license_id("MIT"), "MIT");
        assert_string_equal(spdx_license_id("gpl-2.0-OR-later"), "GPL-2.0-or-later");
        assert_string_equal(spdx_license_id("0bsd"), "0BSD");
        assert_string_equal(spdx_license_id("ZPL-2.1"), "ZPL-2.1");
        assert_null(spdx_license_id("GPLv2+"));
        assert_null(spdx_license_id("Classpath-exception-2.0"));
        assert_string_equal(spdx_exception_id("classpath-exception-2.0"), "Classpath-exception-2.0");
        assert_string_equal(spdx_exception_id("Linux-syscall-note"), "Linux-syscall-note");
        assert_null(spdx_exception_id("MIT"));
}

static void test_expressions(void **state) {
        (void) state;
        expression_is("MIT", "MIT");
        expression_is("mit", "MIT");
        expression_is("GPL-2.0+", "GPL-2.0+");
        expression_is("  MIT\tOR  ISC \n", "MIT OR ISC");
        expression_is("((MIT))", "((MIT))");
        expression_is("(mit OR Apache-2.0) AND GPL-2.0-or-later WITH classpath-exception-2.0",
                      "(MIT OR Apache-2.0) AND GPL-2.0-or-later WITH Classpath-exception-2.0");
        expression_is("(GPL-2.0-only WITH Linux-syscall-note)OR BSD-2-Clause",
                      "(GPL-2.0-only WITH Linux-syscall-note) OR BSD-2-Clause");
        expression_is("LGPL-2.1-or-later AND GPL-3.0-or-later OR MIT", "LGPL-2.1-or-later AND GPL-3.0-or-later OR MIT");
}

static void test_license_refs(void **state) {
        _cleanup_strv_free_ char **refs = NULL;
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

        (void) state;
        assert_int_equal(sbom_spdx_expression("LicenseRef-Fedora-Public-Domain AND MIT", &refs, &a), 1);
        assert_string_equal(a, "LicenseRef-Fedora-Public-Domain AND MIT");
        assert_int_equal(sbom_spdx_expression("LicenseRef-Fedora-Public-Domain OR LicenseRef-x.1", &refs, &b), 1);
        assert_int_equal(strv_length(refs), 2);
        assert_string_equal(refs[0], "LicenseRef-Fedora-Public-Domain");
        assert_string_equal(refs[1], "LicenseRef-x.1");
        /* not an expression: its refs are not added */
        assert_int_equal(sbom_spdx_expression("LicenseRef-other AND GPLv2", &refs, &c), 0);
        assert_int_equal(strv_length(refs), 2);
}

static void test_not_expressions(void **state) {
        char deep[80], *big;

        (void) state;
        not_expression("");
        not_expression("   ");
        not_expression("GPLv2+");
        not_expression("MIT and BSD-3-Clause");
        not_expression("MIT or ISC");
        not_expression("Public Domain");
        not_expression("MIT AND");
        not_expression("AND MIT");
        not_expression("MIT MIT");
        not_expression("(MIT");
        not_expression("MIT)");
        not_expression("()");
        not_expression("MIT WITH");
        not_expression("MIT WITH MIT");
        not_expression("Classpath-exception-2.0");
        not_expression("WITH Classpath-exception-2.0");
        not_expression("MIT WITH Classpath-exception-2.0 WITH Linux-syscall-note");
        not_expression("LicenseRef-");
        not_expression("LicenseRef-a_b");
        not_expression("LicenseRef-ok AND LicenseRef-not/ok");
        not_expression("DocumentRef-x:LicenseRef-y");
        not_expression("+");
        not_expression("MIT++");
        /* 32 levels of parentheses are fine, 33 are not */
        for (int n = 32; n <= 33; n++) {
                memset(deep, '(', (size_t) n);
                memcpy(deep + n, "MIT", 3);
                memset(deep + n + 3, ')', (size_t) n);
                deep[2 * n + 3] = '\0';
                if (n == 32)
                        expression_is(deep, deep);
                else
                        not_expression(deep);
        }
        /* longer than SBOM_EXPRESSION_MAX */
        big = malloc(SBOM_EXPRESSION_MAX + 8);
        assert_non_null(big);
        memset(big, ' ', SBOM_EXPRESSION_MAX + 7);
        memcpy(big, "MIT", 3);
        big[SBOM_EXPRESSION_MAX + 7] = '\0';
        not_expression(big);
        free(big);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_license_list),
                cmocka_unit_test(test_expressions),
                cmocka_unit_test(test_license_refs),
                cmocka_unit_test(test_not_expressions),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
