/*
 * concurrent_logins: N simultaneous PAM logins through real libpam, for
 * bench/run.  Each login is a forked child that runs pam_start_confdir +
 * pam_authenticate + pam_end and exits with the PAM result, so every login
 * is its own process, as with sshd.
 *
 *   concurrent_logins [-s] [N]        N defaults to 50
 *
 *   -s   sequential: one child at a time (for floods where the order and
 *        spacing matter, not the concurrency)
 *
 * Without -s all N children are forked first and block on a start barrier,
 * a pipe whose write end the parent closes once every child exists; then
 * they all run at once.
 *
 * Environment:
 *   PAMORY_BENCH_CONFDIR      directory with the PAM service file (required)
 *   PAMORY_BENCH_SERVICE      service name (default "pamory-bench")
 *   PAMORY_BENCH_USER         PAM user (default "alice"; must exist in NSS)
 *   PAMORY_BENCH_TOKEN        the answer to the password prompt, or
 *   PAMORY_BENCH_TOKEN_FILE   a file of answers, one per line: login i uses
 *                             line i modulo the number of lines
 *
 * Output, on stdout:
 *   logins=N mode=concurrent|sequential ok=K failed=F wall=S.SSS
 *       latency_min=S.SSS latency_median=S.SSS latency_max=S.SSS
 *   results: PAM_SUCCESS=K PAM_AUTH_ERR=F ...
 * Exit status: 0 when every login reported a result (whatever it was), 1
 * when a child died without one, 2 on a setup error.
 *
 * Build: cc -O2 -Wall -Wextra -o concurrent_logins bench/concurrent_logins.c -lpam
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_LOGINS 4096

struct record {            /* one per child on the results pipe; < PIPE_BUF, so atomic */
    int index;
    int pam_rc;
    double seconds;        /* from the start barrier to after pam_end */
};

static const char *answer; /* the token this child gives at the prompt */

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int conversation(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
    struct pam_response *r;
    (void)data;

    if (n <= 0 || n > PAM_MAX_NUM_MSG)
        return PAM_CONV_ERR;
    if ((r = calloc((size_t)n, sizeof(*r))) == NULL)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        switch (msg[i]->msg_style) {
        case PAM_PROMPT_ECHO_OFF:
        case PAM_PROMPT_ECHO_ON:
            if ((r[i].resp = strdup(answer)) == NULL)
                goto fail;
            break;
        case PAM_ERROR_MSG:
        case PAM_TEXT_INFO:
            break;              /* nobody reads them in a benchmark */
        default:
            goto fail;
        }
    }
    *resp = r;
    return PAM_SUCCESS;
fail:
    for (int i = 0; i < n; i++)
        free(r[i].resp);
    free(r);
    return PAM_CONV_ERR;
}

static int one_login(const char *service, const char *user, const char *confdir)
{
    struct pam_conv conv = { conversation, NULL };
    pam_handle_t *pamh = NULL;
    int rc = pam_start_confdir(service, user, &conv, confdir, &pamh);

    if (rc != PAM_SUCCESS)
        return rc;
    rc = pam_authenticate(pamh, PAM_SILENT);
    pam_end(pamh, rc);
    return rc;
}

/* The whole file, split into lines (a trailing newline does not make an empty last line). */
static char **read_lines(const char *path, size_t *count)
{
    FILE *f = fopen(path, "r");
    char **lines = NULL, *line = NULL;
    size_t cap = 0, n = 0, alloc = 0;
    ssize_t len;

    if (f == NULL)
        return NULL;
    while ((len = getline(&line, &cap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (n == alloc) {
            char **grown = realloc(lines, (alloc = alloc ? 2 * alloc : 64) * sizeof(*lines));
            if (grown == NULL)
                exit(2);
            lines = grown;
        }
        if ((lines[n++] = strdup(line)) == NULL)
            exit(2);
    }
    free(line);
    fclose(f);
    *count = n;
    return lines;
}

static const char *pam_name(int rc)
{
    static const char *const names[] = {
        [PAM_SUCCESS] = "PAM_SUCCESS", [PAM_OPEN_ERR] = "PAM_OPEN_ERR", [PAM_SYMBOL_ERR] = "PAM_SYMBOL_ERR",
        [PAM_SERVICE_ERR] = "PAM_SERVICE_ERR", [PAM_SYSTEM_ERR] = "PAM_SYSTEM_ERR", [PAM_BUF_ERR] = "PAM_BUF_ERR",
        [PAM_PERM_DENIED] = "PAM_PERM_DENIED", [PAM_AUTH_ERR] = "PAM_AUTH_ERR",
        [PAM_CRED_INSUFFICIENT] = "PAM_CRED_INSUFFICIENT", [PAM_AUTHINFO_UNAVAIL] = "PAM_AUTHINFO_UNAVAIL",
        [PAM_USER_UNKNOWN] = "PAM_USER_UNKNOWN", [PAM_MAXTRIES] = "PAM_MAXTRIES",
        [PAM_NEW_AUTHTOK_REQD] = "PAM_NEW_AUTHTOK_REQD", [PAM_ACCT_EXPIRED] = "PAM_ACCT_EXPIRED",
        [PAM_SESSION_ERR] = "PAM_SESSION_ERR", [PAM_CRED_UNAVAIL] = "PAM_CRED_UNAVAIL",
        [PAM_CRED_EXPIRED] = "PAM_CRED_EXPIRED", [PAM_CRED_ERR] = "PAM_CRED_ERR",
        [PAM_NO_MODULE_DATA] = "PAM_NO_MODULE_DATA", [PAM_CONV_ERR] = "PAM_CONV_ERR",
        [PAM_AUTHTOK_ERR] = "PAM_AUTHTOK_ERR", [PAM_AUTHTOK_RECOVERY_ERR] = "PAM_AUTHTOK_RECOVERY_ERR",
        [PAM_AUTHTOK_LOCK_BUSY] = "PAM_AUTHTOK_LOCK_BUSY", [PAM_AUTHTOK_DISABLE_AGING] = "PAM_AUTHTOK_DISABLE_AGING",
        [PAM_TRY_AGAIN] = "PAM_TRY_AGAIN", [PAM_IGNORE] = "PAM_IGNORE", [PAM_ABORT] = "PAM_ABORT",
        [PAM_AUTHTOK_EXPIRED] = "PAM_AUTHTOK_EXPIRED", [PAM_MODULE_UNKNOWN] = "PAM_MODULE_UNKNOWN",
        [PAM_BAD_ITEM] = "PAM_BAD_ITEM", [PAM_CONV_AGAIN] = "PAM_CONV_AGAIN", [PAM_INCOMPLETE] = "PAM_INCOMPLETE",
    };

    if (rc >= 0 && (size_t)rc < sizeof(names) / sizeof(names[0]) && names[rc] != NULL)
        return names[rc];
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static void usage(void)
{
    fprintf(stderr, "usage: concurrent_logins [-s] [N]   (env: PAMORY_BENCH_CONFDIR, PAMORY_BENCH_SERVICE,\n"
                    "       PAMORY_BENCH_USER, PAMORY_BENCH_TOKEN or PAMORY_BENCH_TOKEN_FILE)\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *confdir = getenv("PAMORY_BENCH_CONFDIR");
    const char *service = getenv("PAMORY_BENCH_SERVICE");
    const char *user = getenv("PAMORY_BENCH_USER");
    const char *token = getenv("PAMORY_BENCH_TOKEN");
    const char *token_file = getenv("PAMORY_BENCH_TOKEN_FILE");
    char **tokens = NULL;
    size_t ntokens = 0;
    int sequential = 0, opt, barrier[2], results[2];
    long n = 50;
    pid_t *pids;
    double start, wall, *latency;
    int counts[64] = { 0 }, other = 0, ok = 0, got = 0;
    struct record rec;
    ssize_t r;

#define TAKE(rec) do { \
        latency[got++] = (rec).seconds; \
        if ((rec).pam_rc == PAM_SUCCESS) \
            ok++; \
        if ((rec).pam_rc >= 0 && (rec).pam_rc < 64) \
            counts[(rec).pam_rc]++; \
        else \
            other++; \
    } while (0)

    while ((opt = getopt(argc, argv, "s")) != -1) {
        if (opt == 's')
            sequential = 1;
        else
            usage();
    }
    if (optind < argc) {
        char *end;
        errno = 0;
        n = strtol(argv[optind], &end, 10);
        if (errno || *end || n < 1 || n > MAX_LOGINS || optind + 1 < argc)
            usage();
    }
    if (confdir == NULL || *confdir == '\0') {
        fprintf(stderr, "concurrent_logins: PAMORY_BENCH_CONFDIR is not set\n");
        return 2;
    }
    if (service == NULL || *service == '\0')
        service = "pamory-bench";
    if (user == NULL || *user == '\0')
        user = "alice";
    if (token_file != NULL && *token_file != '\0') {
        if ((tokens = read_lines(token_file, &ntokens)) == NULL || ntokens == 0) {
            fprintf(stderr, "concurrent_logins: cannot read tokens from %s\n", token_file);
            return 2;
        }
    } else if (token != NULL && *token != '\0') {
        tokens = (char **)&token;
        ntokens = 1;
    } else {
        fprintf(stderr, "concurrent_logins: set PAMORY_BENCH_TOKEN or PAMORY_BENCH_TOKEN_FILE\n");
        return 2;
    }

    pids = calloc((size_t)n, sizeof(*pids));
    latency = calloc((size_t)n, sizeof(*latency));
    if (pids == NULL || latency == NULL || pipe(barrier) != 0 || pipe2(results, O_CLOEXEC) != 0) {
        perror("concurrent_logins");
        return 2;
    }
    fflush(NULL);

    start = now();
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();

        if (pid < 0) {
            perror("concurrent_logins: fork");
            /* let the children already forked go, so that none is left behind */
            close(barrier[1]);
            for (long j = 0; j < i; j++)
                waitpid(pids[j], NULL, 0);
            return 2;
        }
        if (pid == 0) {
            char c;
            double t0;
            int rc;

            close(barrier[1]);
            close(results[0]);
            while ((r = read(barrier[0], &c, 1)) < 0 && errno == EINTR)
                ;
            close(barrier[0]);
            t0 = now();         /* the barrier just opened */
            answer = tokens[(size_t)i % ntokens];
            rc = one_login(service, user, confdir);
            rec = (struct record){ .index = (int)i, .pam_rc = rc, .seconds = now() - t0 };
            if (write(results[1], &rec, sizeof(rec)) != (ssize_t)sizeof(rec))
                _exit(255);
            _exit(rc & 0xff);
        }
        pids[i] = pid;
        if (sequential) {
            /* a fresh barrier per child: release it at once, wait for it to finish */
            close(barrier[1]);
            close(barrier[0]);
            waitpid(pid, NULL, 0);
            /* its record, if it wrote one, is in the pipe already; take it now so that the
               pipe never fills (poll first: a child that crashed wrote nothing) */
            struct pollfd pfd = { .fd = results[0], .events = POLLIN };
            if (poll(&pfd, 1, 0) == 1 && read(results[0], &rec, sizeof(rec)) == (ssize_t)sizeof(rec))
                TAKE(rec);
            if (i + 1 < n && pipe(barrier) != 0) {
                perror("concurrent_logins: pipe");
                return 2;
            }
        }
    }
    if (!sequential) {
        /* every child exists: start them all at once */
        start = now();
        close(barrier[1]);
        close(barrier[0]);
    }
    close(results[1]);

    /* read until every child has closed its end (it exits right after writing) */
    while ((r = read(results[0], &rec, sizeof(rec))) != 0) {
        if (r < 0) {
            if (errno == EINTR)
                continue;
            perror("concurrent_logins: read");
            break;
        }
        if (r != (ssize_t)sizeof(rec))
            break;
        TAKE(rec);
    }
    if (!sequential) {
        for (long i = 0; i < n; i++) {
            int status;
            while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR)
                ;
        }
    }
    wall = now() - start;

    qsort(latency, (size_t)got, sizeof(*latency), cmp_double);
    printf("logins=%ld mode=%s ok=%d failed=%ld wall=%.3f", n, sequential ? "sequential" : "concurrent", ok,
           n - ok, wall);
    if (got > 0)
        printf(" latency_min=%.3f latency_median=%.3f latency_max=%.3f", latency[0], latency[got / 2],
               latency[got - 1]);
    printf("\nresults:");
    for (int i = 0; i < 64; i++) {
        if (counts[i] == 0)
            continue;
        if (pam_name(i) != NULL)
            printf(" %s=%d", pam_name(i), counts[i]);
        else
            printf(" pam_rc_%d=%d", i, counts[i]);
    }
    if (other)
        printf(" other=%d", other);
    if (got < n)
        printf(" no_result=%ld", n - got);   /* a child that crashed before writing its record */
    printf("\n");
    return got == n ? 0 : 1;
}
