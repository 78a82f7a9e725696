/*
 * pam_ory_check: check a pam_ory configuration before a login depends on it,
 * in the spirit of "sshd -t".
 *
 * The configuration is read by the module's own code (pamory_config_load,
 * same file, same module-argument convention), and everything the module
 * would trip over later is tried now: the files it reads, the issuer's
 * discovery document, its JWKS, and a real device authorization with the
 * configured client.  Every problem is reported, not just the first; the
 * exit status is 0 only when there was none.
 *
 * The library logs through pamory_err() to stderr when there is no PAM
 * handle.  Each check catches those lines and prints them as its own
 * "problem:" lines on stdout, so that every line says which check failed.
 * The library never logs a secret, and neither does this program: secret
 * files are read to check them, and their contents are wiped unseen.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <security/pam_modules.h>

#include "account.h"
#include "cache.h"
#include "clock.h"
#include "config.h"
#include "context.h"
#include "discovery.h"
#include "flow/device.h"
#include "flow/sanitize.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "safe_file.h"
#include "secret.h"
#include "token/jwks.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define WELL_KNOWN "/.well-known/openid-configuration"
#define LOG_PREFIX "pam_ory: "

/* What a checked file turned out to be, for the effective configuration. */
enum file_state { FILE_UNCHECKED, FILE_OK, FILE_PROBLEM };

struct checker {
    unsigned ok, problems, skipped;
    enum file_state secret_file, admin_token_file, map_file, ca_file;
};

/* Every check logs through this: no PAM handle, so stderr; never debug. */
static const struct pamory_log quiet = { NULL, false };

/* ------------------------------------------------------------ output */

static void say(struct checker *ck, const char *kind, const char *fmt, va_list ap)
    PAMORY_PRINTF(3, 0);

static void say(struct checker *ck, const char *kind, const char *fmt, va_list ap)
{
    (void)ck;
    printf("%s: ", kind);
    vprintf(fmt, ap);
    putchar('\n');
}

static void ok(struct checker *ck, const char *fmt, ...) PAMORY_PRINTF(2, 3);
static void problem(struct checker *ck, const char *fmt, ...) PAMORY_PRINTF(2, 3);
static void skipped(struct checker *ck, const char *fmt, ...) PAMORY_PRINTF(2, 3);

static void ok(struct checker *ck, const char *fmt, ...)
{
    va_list ap;

    ck->ok++;
    va_start(ap, fmt);
    say(ck, "ok", fmt, ap);
    va_end(ap);
}

static void problem(struct checker *ck, const char *fmt, ...)
{
    va_list ap;

    ck->problems++;
    va_start(ap, fmt);
    say(ck, "problem", fmt, ap);
    va_end(ap);
}

static void skipped(struct checker *ck, const char *fmt, ...)
{
    va_list ap;

    ck->skipped++;
    va_start(ap, fmt);
    say(ck, "skipped", fmt, ap);
    va_end(ap);
}

/* ------------------------------------------- catching the library's lines */

/*
 * While a capture runs, fd 2 is an unlinked temporary file.  If none can be
 * made, the library's lines simply go to stderr as they are, and the
 * problem lines point there.
 */
struct capture {
    FILE *tmp;
    int saved_fd;
};

static void capture_begin(struct capture *c)
{
    fflush(stderr);
    c->saved_fd = -1;
    c->tmp = tmpfile();
    if (c->tmp == NULL)
        return;
    c->saved_fd = dup(STDERR_FILENO);
    if (c->saved_fd < 0 || dup2(fileno(c->tmp), STDERR_FILENO) < 0) {
        if (c->saved_fd >= 0)
            close(c->saved_fd);
        fclose(c->tmp);
        c->tmp = NULL;
        c->saved_fd = -1;
    }
}

/* Stop capturing.  Returns what was written (heap, NUL-terminated) or NULL. */
static char *capture_end(struct capture *c)
{
    struct stat st;
    char *text = NULL;
    size_t n = 0;

    if (c->tmp == NULL)
        return NULL;
    fflush(stderr);
    dup2(c->saved_fd, STDERR_FILENO);
    close(c->saved_fd);
    if (fstat(fileno(c->tmp), &st) == 0 && fseek(c->tmp, 0, SEEK_SET) == 0 &&
        (text = malloc((size_t)st.st_size + 1)) != NULL) {
        n = fread(text, 1, (size_t)st.st_size, c->tmp);
        text[n] = '\0';
    }
    fclose(c->tmp);
    c->tmp = NULL;
    return text;
}

/*
 * One problem line per captured library line, each prefixed with what was
 * being checked; fallback when the library said nothing we caught.
 * Returns the number of problems reported.
 */
static unsigned problem_lines(struct checker *ck, const char *what, char *captured,
                              const char *fallback)
{
    unsigned n = 0;
    char *line, *next;

    for (line = captured; line != NULL && *line != '\0'; line = next) {
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        if (strncmp(line, LOG_PREFIX, strlen(LOG_PREFIX)) == 0)
            line += strlen(LOG_PREFIX);
        if (*line == '\0')
            continue;
        problem(ck, "%s: %s", what, line);
        n++;
    }
    if (n == 0) {
        problem(ck, "%s: %s%s", what, fallback,
                captured == NULL ? " (details on stderr above)" : "");
        n++;
    }
    return n;
}

/* ------------------------------------------------------------ arguments */

static void usage(FILE *out)
{
    fputs("usage: pam_ory_check [--config FILE] [MODULE-ARGUMENT...]\n"
          "Check a pam_ory configuration, its files, and the identity provider it\n"
          "names, as the module would see them.  MODULE-ARGUMENTs are written as in\n"
          "/etc/pam.d (debug, issuer=..., timeout=60).  Exit status 0: no problem.\n"
          "See pam_ory_check(8).\n", out);
}

/*
 * Turn our command line into module arguments: "--config FILE" becomes
 * "config=FILE", everything else is passed as it is.  Returns the count,
 * or -1 (usage error, message printed), or -2 (help or version printed).
 */
static int module_args(int argc, char **argv, const char **out)
{
    int i, n = 0;
    bool rest = false;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *arg;

        if (!rest && strcmp(a, "--") == 0) {
            rest = true;
            continue;
        }
        if (!rest && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
            usage(stdout);
            return -2;
        }
        if (!rest && (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0)) {
            printf("pam_ory_check (pam_ory) %s\n", PACKAGE_VERSION);
            return -2;
        }
        if (!rest && (strcmp(a, "--config") == 0 || strcmp(a, "-c") == 0)) {
            if (i + 1 >= argc) {
                fprintf(stderr, "pam_ory_check: %s needs a file name\n", a);
                return -1;
            }
            a = argv[++i];
        } else if (!rest && strncmp(a, "--config=", 9) == 0) {
            a += 9;
        } else if (!rest && a[0] == '-') {
            fprintf(stderr, "pam_ory_check: unknown option %s\n", a);
            usage(stderr);
            return -1;
        } else {
            out[n++] = a;
            continue;
        }
        if (asprintf(&arg, "config=%s", a) < 0) {
            fprintf(stderr, "pam_ory_check: out of memory\n");
            return -1;
        }
        out[n++] = arg;   /* freed by free_module_args() */
    }
    return n;
}

/* Free the "config=" strings module_args made, and the array. */
static void free_module_args(int argc, char **argv, int margc, const char **margv)
{
    int i, j;

    for (i = 0; i < margc; i++) {
        for (j = 1; j < argc && margv[i] != argv[j]; j++)
            ;
        if (j == argc)
            free((char *)margv[i]);
    }
    free(margv);
}

/* -------------------------------------------------------- configuration */

/* Is the n-byte line a whole line of text (NULL: no)? */
static bool has_line(const char *text, const char *line, size_t n)
{
    const char *p, *e;

    for (p = text; p != NULL && *p != '\0'; p = e != NULL ? e + 1 : NULL) {
        e = strchr(p, '\n');
        if ((e != NULL ? (size_t)(e - p) : strlen(p)) == n && memcmp(p, line, n) == 0)
            return true;
    }
    return false;
}

/* Copy text's lines to stderr, except those already in seen (NULL: none). */
static void echo_new_lines(const char *text, const char *seen)
{
    const char *line, *end;

    for (line = text; *line != '\0'; line = *end != '\0' ? end + 1 : end) {
        end = strchr(line, '\n');
        if (end == NULL)
            end = line + strlen(line);
        if (!has_line(seen, line, (size_t)(end - line)))
            fprintf(stderr, "%.*s\n", (int)(end - line), line);
    }
}

/*
 * Load twice.  First with debug forced off (a last "debug=no" wins), so
 * that every line the loader logs is a problem; then exactly as the module
 * would, for the effective configuration.  Its debug lines, if the
 * configuration turns debug on, go to stderr.
 */
static int load_config(struct checker *ck, int argc, const char **argv, struct pamory_config *cfg)
{
    struct pamory_config probe;
    struct capture cap;
    char *text, *problems;
    int r;

    argv[argc] = "debug=no";
    capture_begin(&cap);
    r = pamory_config_load(&quiet, argc + 1, argv, &probe);
    problems = capture_end(&cap);
    pamory_config_free(&probe);

    capture_begin(&cap);
    pamory_config_load(&quiet, argc, argv, cfg);
    text = capture_end(&cap);
    if (cfg->debug && text != NULL)
        echo_new_lines(text, problems);
    free(text);
    if (r != 0)
        problem_lines(ck, "configuration", problems, "the configuration does not load");
    free(problems);

    if (r == 0) {
        struct stat st;
        int i, nargs = 0;

        for (i = 0; i < argc; i++)
            nargs += strncmp(argv[i], "config=", 7) != 0;
        if (lstat(cfg->config_file, &st) != 0 && errno == ENOENT)
            ok(ck, "configuration: %s does not exist; %d module argument(s) load without problems",
               cfg->config_file, nargs);
        else
            ok(ck, "configuration: %s and %d module argument(s) load without problems",
               cfg->config_file, nargs);
    }
    return r;
}

/* ---------------------------------------------------------------- files */

static enum file_state check_secret_file(struct checker *ck, const char *key, const char *path)
{
    struct capture cap;
    char *secret = NULL, *text;
    int r;

    capture_begin(&cap);
    r = pamory_read_secret(&quiet, path, &secret);
    text = capture_end(&cap);
    pamory_secret_free(secret);   /* looked at by nobody */
    if (r == 0)
        ok(ck, "%s %s: safe owner and mode, holds a secret", key, path);
    else
        problem_lines(ck, key, text, "cannot be read safely");
    free(text);
    return r == 0 ? FILE_OK : FILE_PROBLEM;
}

struct map_check {
    struct checker *ck;
    const char *path;
    bool allow_root;
    unsigned pairs, bad;
};

/* One "<claim> <user>" line: the user must exist, and root only with allow_root. */
static int check_map_line(void *arg, int lineno, const char *claim, const char *user)
{
    struct map_check *mc = arg;
    struct passwd *pw;

    (void)claim;   /* may be a subject identifier: not printed */
    mc->pairs++;
    errno = 0;
    pw = getpwnam(user);
    if (pw == NULL) {
        problem(mc->ck, "map_file %s line %d: user \"%s\" does not exist on this system%s%s",
                mc->path, lineno, user, errno != 0 ? ": " : "", errno != 0 ? strerror(errno) : "");
        mc->bad++;
    } else if (pw->pw_uid == 0 && !mc->allow_root) {
        problem(mc->ck, "map_file %s line %d: user \"%s\" has uid 0; logins as it are refused "
                "unless allow_root = yes", mc->path, lineno, user);
        mc->bad++;
    }
    return 0;
}

static enum file_state check_map_file(struct checker *ck, const struct pamory_config *cfg)
{
    struct map_check mc = { ck, cfg->map_file, cfg->allow_root, 0, 0 };
    struct capture cap;
    char *map = NULL, *text;
    unsigned before = ck->problems;
    int r;

    capture_begin(&cap);
    r = pamory_read_file(&quiet, cfg->map_file, PAMORY_FILE_POLICY, false, &map, NULL);
    text = capture_end(&cap);
    if (r != 0) {
        problem_lines(ck, "map_file", text, "cannot be read safely");
        free(text);
        return FILE_PROBLEM;
    }
    free(text);
    capture_begin(&cap);
    r = pamory_map_each(&quiet, cfg->map_file, map, check_map_line, &mc);
    text = capture_end(&cap);
    if (r != 0)
        problem_lines(ck, "map_file", text, "malformed");
    free(text);
    free(map);
    if (ck->problems != before)
        return FILE_PROBLEM;
    ok(ck, "map_file %s: safe owner and mode, %u mapping(s), every local user exists%s",
       cfg->map_file, mc.pairs, cfg->allow_root ? "" : " and none is root");
    return FILE_OK;
}

/* curl reads ca_file itself; here only: is it a readable regular file? */
static enum file_state check_ca_file(struct checker *ck, const char *path)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

    if (fd < 0) {
        problem(ck, "ca_file %s: cannot read: %s", path, strerror(errno));
        return FILE_PROBLEM;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        problem(ck, "ca_file %s: not a regular file", path);
        close(fd);
        return FILE_PROBLEM;
    }
    close(fd);
    ok(ck, "ca_file %s: readable", path);
    return FILE_OK;
}

static void check_files(struct checker *ck, const struct pamory_config *cfg)
{
    if (cfg->client_secret_file != NULL)
        ck->secret_file = check_secret_file(ck, "client_secret_file", cfg->client_secret_file);
    if (cfg->admin_token_file != NULL)
        ck->admin_token_file = check_secret_file(ck, "admin_token_file", cfg->admin_token_file);
    if (cfg->map_file != NULL)
        ck->map_file = check_map_file(ck, cfg);
    if (cfg->ca_file != NULL)
        ck->ca_file = check_ca_file(ck, cfg->ca_file);
}

/* ------------------------------------------------------ identity provider */

/* "<issuer>/.well-known/openid-configuration", as discovery.c builds it. */
static char *discovery_url(const char *issuer)
{
    size_t n = strlen(issuer);
    char *url = NULL;

    while (n > 0 && issuer[n - 1] == '/')
        n--;
    if (asprintf(&url, "%.*s%s", (int)n, issuer, WELL_KNOWN) < 0)
        return NULL;
    return url;
}

/* Two issuers that differ only in a trailing slash. */
static bool only_slash_differs(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    if (la + 1 == lb)
        return b[la] == '/' && strncmp(a, b, la) == 0;
    if (lb + 1 == la)
        return a[lb] == '/' && strncmp(a, b, lb) == 0;
    return false;
}

/*
 * Discovery failed; fetch the document once more, quietly, to tell the
 * operator which kind of failure it was.  The library's own lines (caught
 * from the real fetch) carry the details.
 */
static void discovery_problem(struct checker *ck, const struct pamory_http *http,
                              const char *issuer, char *details)
{
    struct pamory_http_response resp = { 0 };
    struct capture cap;
    const char *what = "discovery failed", *named = NULL;
    char *url = discovery_url(issuer), *clean = NULL, *ignored;
    json_object *doc = NULL;
    int got = -1;

    capture_begin(&cap);
    if (url != NULL)
        got = pamory_http_get(http, url, &resp);
    ignored = capture_end(&cap);
    free(ignored);
    if (got != 0) {
        what = "issuer unreachable";
    } else if (resp.status == 200 &&
               (doc = pamory_json_parse_object(resp.body, resp.len)) != NULL &&
               pamory_json_string(doc, "issuer", &named) == PAMORY_JSON_OK &&
               strcmp(named, issuer) != 0) {
        what = "discovery issuer mismatch";
        clean = pamory_sanitize(named);
    } else if (resp.status == 200) {
        what = "discovery document unusable";
    }
    problem_lines(ck, what, details, issuer);
    if (clean != NULL && only_slash_differs(clean, issuer))
        printf("hint: the two differ only in the trailing slash; write \"issuer = %s\"\n", clean);
    free(clean);
    json_object_put(doc);
    pamory_http_response_free(&resp);
    free(url);
}

static int check_discovery(struct checker *ck, const struct pamory_http *http,
                           const char *issuer, struct pamory_discovery *disc)
{
    const struct pamory_cache nocache = { NULL, 0 };   /* never read or write the cache */
    struct capture cap;
    char *text;
    int r;

    capture_begin(&cap);
    r = pamory_discovery_fetch(http, &nocache, issuer, disc);
    text = capture_end(&cap);
    if (r == PAM_SUCCESS)
        ok(ck, "issuer %s: discovery document fetched, issuer matches", issuer);
    else
        discovery_problem(ck, http, issuer, text);
    free(text);
    return r == PAM_SUCCESS ? 0 : -1;
}

static void check_jwks(struct checker *ck, const struct pamory_http *http,
                       const struct pamory_discovery *disc)
{
    struct pamory_http_response resp = { 0 };
    struct pamory_jwks set = { 0 };
    struct capture cap;
    size_t i, usable = 0, rsa = 0, ec = 0;
    char *text;
    int r;

    capture_begin(&cap);
    r = pamory_http_get(http, disc->jwks_uri, &resp);
    text = capture_end(&cap);
    if (r != 0) {
        problem_lines(ck, "JWKS unreachable", text, disc->jwks_uri);
    } else if (resp.status != 200) {
        problem(ck, "JWKS %s: answered HTTP %ld", disc->jwks_uri, resp.status);
    } else {
        free(text);
        capture_begin(&cap);
        r = pamory_jwks_parse(&quiet, resp.body, resp.len, &set);
        text = capture_end(&cap);
        for (i = 0; r == 0 && i < set.n; i++) {
            if (set.keys[i].pkey == NULL)
                continue;
            usable++;
            if (set.keys[i].kty == PAMORY_KTY_RSA)
                rsa++;
            else
                ec++;
        }
        if (r != 0)
            problem_lines(ck, "JWKS unusable", text, disc->jwks_uri);
        else if (usable == 0)
            problem(ck, "JWKS %s: empty or unusable: no RSA (2048 bits or more) or EC P-256/384/521 "
                    "signing key, so no ID token can be verified", disc->jwks_uri);
        else
            ok(ck, "JWKS %s: %zu usable signing key(s) (%zu RSA, %zu EC)",
               disc->jwks_uri, usable, rsa, ec);
    }
    free(text);
    pamory_jwks_free(&set);
    pamory_http_response_free(&resp);
}

/*
 * Start a real device authorization: the only way to learn whether the IdP
 * accepts this client, its authentication and the scope.  The code it
 * issues is never shown to anyone and expires unused.
 */
static void check_client(struct checker *ck, const struct pamory_http *http,
                         const struct pamory_config *cfg, const struct pamory_discovery *disc)
{
    struct pamory_client client = { cfg->client_id, cfg->client_auth_method, NULL };
    struct pamory_device_auth auth = { 0 };
    struct pamory_ctx ctx;
    struct capture cap;
    char *text;
    int r;

    if (cfg->client_id == NULL) {
        skipped(ck, "client: client_id is not set");
        return;
    }
    if (cfg->mode != PAMORY_MODE_DEVICE) {
        skipped(ck, "client: mode=%s does not start device authorizations",
                pamory_mode_name(cfg->mode));
        return;
    }
    if (client.method == PAMORY_CLIENT_AUTH_DEFAULT)
        client.method = cfg->client_secret_file != NULL ? PAMORY_CLIENT_AUTH_BASIC
                                                        : PAMORY_CLIENT_AUTH_NONE;
    if (client.method != PAMORY_CLIENT_AUTH_NONE) {
        capture_begin(&cap);
        r = cfg->client_secret_file != NULL
                ? pamory_read_secret(&quiet, cfg->client_secret_file, &client.secret) : -1;
        text = capture_end(&cap);
        free(text);   /* already reported by the client_secret_file check */
        if (r != 0) {
            skipped(ck, "client: needs the client secret, which cannot be read");
            return;
        }
    }
    /* As auth.c's begin() builds it, without a PAM handle; cfg is borrowed, not freed here. */
    memset(&ctx, 0, sizeof(ctx));
    ctx.log = quiet;
    ctx.cfg = *cfg;
    ctx.user = "(pam_ory_check)";
    ctx.service = "pam_ory_check";
    ctx.deadline = http->deadline;

    capture_begin(&cap);
    r = pamory_device_start(&ctx, http, disc, &client, &auth);
    text = capture_end(&cap);
    if (r == PAM_SUCCESS)
        ok(ck, "client_id %s: the device authorization endpoint accepts the client and scope "
           "\"%s\" (the code it issued expires unused in %ld s)", cfg->client_id, cfg->scope,
           auth.expires_in);
    else if (r == PAM_SERVICE_ERR)
        problem_lines(ck, "client refused", text, cfg->client_id);
    else
        problem_lines(ck, "device authorization failed", text, cfg->client_id);
    free(text);
    pamory_device_auth_free(&auth);
    pamory_secret_free(client.secret);
}

static void check_idp(struct checker *ck, const struct pamory_config *cfg)
{
    struct pamory_http http = { &quiet, cfg->ca_file,
                                pamory_monotonic_now() + (time_t)cfg->timeout };
    struct pamory_discovery disc = { 0 };

    if (cfg->issuer == NULL) {
        skipped(ck, "issuer, JWKS and client: issuer is not set");
        return;
    }
    if (ck->ca_file == FILE_PROBLEM) {
        skipped(ck, "issuer, JWKS and client: ca_file cannot be read");
        return;
    }
    if (check_discovery(ck, &http, cfg->issuer, &disc) != 0) {
        skipped(ck, "JWKS and client: no discovery document");
        return;
    }
    check_jwks(ck, &http, &disc);
    check_client(ck, &http, cfg, &disc);
    pamory_discovery_free(&disc);
}

/* ------------------------------------------------- effective configuration */

static void show_key(void *arg, const char *key, const char *value)
{
    const struct checker *ck = arg;
    enum file_state st = FILE_UNCHECKED;
    bool is_file = true;

    if (strcmp(key, "client_secret_file") == 0)
        st = ck->secret_file;
    else if (strcmp(key, "admin_token_file") == 0)
        st = ck->admin_token_file;
    else if (strcmp(key, "map_file") == 0)
        st = ck->map_file;
    else if (strcmp(key, "ca_file") == 0)
        st = ck->ca_file;
    else
        is_file = false;
    /* Paths only: the checker never prints what a secret file holds. */
    if (is_file && st != FILE_UNCHECKED)
        printf("    %s = %s (%s)\n", key, value, st == FILE_OK ? "ok" : "problem");
    else
        printf("    %s = %s\n", key, value);
}

int main(int argc, char **argv)
{
    struct checker ck = { 0 };
    struct pamory_config cfg;
    const char **margv;
    int margc;

    setvbuf(stdout, NULL, _IOLBF, 0);
    /* Room for every argument and the "debug=no" of the first load. */
    margv = calloc((size_t)argc + 1, sizeof(*margv));
    if (margv == NULL) {
        fprintf(stderr, "pam_ory_check: out of memory\n");
        return 2;
    }
    margc = module_args(argc, argv, margv);
    if (margc < 0) {
        free(margv);   /* a usage error: the process ends now */
        return margc == -2 ? 0 : 2;
    }
    if (geteuid() != 0)
        printf("note: not running as root: files only root may read will be reported as "
               "unreadable, and files owned by uid %lu count as safe\n", (unsigned long)geteuid());

    load_config(&ck, margc, margv, &cfg);
    check_files(&ck, &cfg);
    check_idp(&ck, &cfg);

    printf("effective configuration (%s, then module arguments):\n",
           cfg.config_file != NULL ? cfg.config_file : PAMORY_CONFIG_FILE);
    pamory_config_each(&cfg, show_key, &ck);
    printf("summary: %u ok, %u problem%s, %u skipped\n", ck.ok, ck.problems,
           ck.problems == 1 ? "" : "s", ck.skipped);
    pamory_config_free(&cfg);
    free_module_args(argc, argv, margc, margv);
    return ck.problems == 0 ? 0 : 1;
}
