/*
 * The built module loads with dlopen() and exports exactly the PAM entry
 * points it implements: pam_sm_authenticate, pam_sm_setcred, pam_sm_acct_mgmt.
 * Anything else in the dynamic symbol table would leak our internals into the
 * host process (sshd, sudo) and could clash with its symbols.
 */
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const expected[] = { "pam_sm_authenticate", "pam_sm_setcred", "pam_sm_acct_mgmt" };
#define N_EXPECTED (sizeof(expected) / sizeof(expected[0]))

/* Count the defined global function/object symbols in the module's .dynsym. */
static int check_dynsym(const char *path)
{
    char cmd[4096], line[512];
    FILE *p;
    int bad = 0, found = 0;

    snprintf(cmd, sizeof(cmd), "nm -D --defined-only '%s'", path);
    p = popen(cmd, "r");
    if (p == NULL) {
        perror("popen nm");
        return 1;
    }
    while (fgets(line, sizeof(line), p) != NULL) {
        char addr[64], type[8], name[400];
        size_t i;
        int known = 0;

        if (sscanf(line, "%63s %7s %399s", addr, type, name) != 3)
            continue;
        for (i = 0; i < N_EXPECTED; i++)
            if (strcmp(name, expected[i]) == 0)
                known = 1;
        if (known) {
            found++;
        } else {
            fprintf(stderr, "FAIL: unexpected exported symbol %s (%s)\n", name, type);
            bad = 1;
        }
    }
    if (pclose(p) != 0) {
        fprintf(stderr, "FAIL: nm -D failed on %s\n", path);
        return 1;
    }
    if (found != (int)N_EXPECTED) {
        fprintf(stderr, "FAIL: found %d of %zu pam_sm_* symbols\n", found, N_EXPECTED);
        bad = 1;
    }
    return bad;
}

int main(void)
{
    const char *path = getenv("PAMORY_MODULE");
    void *h;
    size_t i;
    int bad = 0;

    if (path == NULL) {
        fprintf(stderr, "FAIL: PAMORY_MODULE is not set\n");
        return 1;
    }
    h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        fprintf(stderr, "FAIL: dlopen: %s\n", dlerror());
        return 1;
    }
    for (i = 0; i < N_EXPECTED; i++) {
        if (dlsym(h, expected[i]) == NULL) {
            fprintf(stderr, "FAIL: %s not exported\n", expected[i]);
            bad = 1;
        }
    }
    /* A sample of internal names that must stay hidden. */
    if (dlsym(h, "pamory_authenticate") != NULL || dlsym(h, "pamory_config_load") != NULL) {
        fprintf(stderr, "FAIL: internal pamory_* symbols are exported\n");
        bad = 1;
    }
    bad |= check_dynsym(path);
    dlclose(h);
    printf("%s: module exports exactly the pam_sm_* entry points\n", bad ? "FAIL" : "PASS");
    return bad;
}
