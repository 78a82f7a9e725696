/*
 * Unit tests for config.c and safe_file.c.  Files live in a fresh mkdtemp
 * directory per test; the default /etc path is never written, so the file
 * layer is exercised through config=PATH.  Log lines (stderr without a PAM
 * handle) are captured, because "one clear line per problem" is part of the
 * contract as much as the return value is.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "tmpdir.h"

#include "config.h"
#include "safe_file.h"
#include "secret.h"

#define ISSUER "issuer=https://auth.example.com/"
#define CLIENT "client_id=pam-ory"

struct fixture {
    char dir[64];
    char conf[128];        /* dir/pam_ory.conf */
    char config_arg[160];  /* "config=" + conf */
};

/* ------------------------------------------------------------ helpers */

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    strcpy(f->dir, "/tmp/pamory-config-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->conf, sizeof(f->conf), "%s/pam_ory.conf", f->dir);
    snprintf(f->config_arg, sizeof(f->config_arg), "config=%s", f->conf);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int r = tmpdir_remove(f->dir);

    free(f);
    return r;
}

/* Write len bytes to path with exactly the given mode (umask aside). */
static void write_bytes(const char *path, const char *content, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    assert_int_equal(close(fd), 0);
}

static void write_file(const char *path, const char *content, mode_t mode)
{
    write_bytes(path, content, strlen(content), mode);
}

/* path = dir/name, in a caller buffer. */
static const char *in_dir(const struct fixture *f, const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", f->dir, name);
    return buf;
}

/* stderr redirected to a temporary file for the duration of one call. */
struct capture {
    FILE *tmp;
    int saved;
};

static void capture_begin(struct capture *c)
{
    fflush(stderr);
    c->tmp = tmpfile();
    assert_non_null(c->tmp);
    c->saved = dup(2);
    assert_true(c->saved >= 0);
    assert_true(dup2(fileno(c->tmp), 2) >= 0);
}

static char *capture_end(struct capture *c)
{
    long size;
    char *text;

    fflush(stderr);
    assert_true(dup2(c->saved, 2) >= 0);
    close(c->saved);
    size = ftell(c->tmp);
    assert_true(size >= 0);
    text = calloc((size_t)size + 1, 1);
    assert_non_null(text);
    rewind(c->tmp);
    assert_int_equal(fread(text, 1, (size_t)size, c->tmp), (size_t)size);
    fclose(c->tmp);
    return text;
}

/* How many log lines (each starts "pam_ory: ") were written. */
static int count_lines(const char *log)
{
    int n = 0;

    for (; (log = strstr(log, "pam_ory: ")) != NULL; log++)
        n++;
    return n;
}

/* Load with a captured log; the caller frees cfg and log. */
static int load_array(struct pamory_config *cfg, char **log, int argc, const char **argv)
{
    struct pamory_log lg = { NULL, false };
    struct capture c;
    int rc;

    capture_begin(&c);
    rc = pamory_config_load(&lg, argc, argv, cfg);
    *log = capture_end(&c);
    return rc;
}

#define ARGS(...) (const char *[]){ __VA_ARGS__ }
#define NARGS(...) (int)(sizeof(ARGS(__VA_ARGS__)) / sizeof(const char *))
#define LOAD(cfg, log, ...) load_array(cfg, log, NARGS(__VA_ARGS__), ARGS(__VA_ARGS__))

/*
 * Expect the load to fail with exactly `lines` log lines, one of them holding
 * every fragment given (NULL-terminated).
 */
static void expect_failure(const struct fixture *f, const char *content, int lines, ...)
{
    struct pamory_config cfg;
    const char *fragment;
    char *log;
    va_list ap;

    write_file(f->conf, content, 0644);
    assert_int_equal(LOAD(&cfg, &log, f->config_arg), -1);
    if (count_lines(log) != lines)
        fail_msg("expected %d log line(s), got:\n%s", lines, log);
    va_start(ap, lines);
    while ((fragment = va_arg(ap, const char *)) != NULL) {
        if (strstr(log, fragment) == NULL)
            fail_msg("log lacks \"%s\":\n%s", fragment, log);
    }
    va_end(ap);
    free(log);
    pamory_config_free(&cfg);
}

/* ------------------------------------------------------------ config: success */

static void test_defaults(void **state)
{
    struct fixture *f = *state;
    struct pamory_config cfg;
    char *log;

    write_file(f->conf, "", 0644);
    assert_int_equal(LOAD(&cfg, &log, f->config_arg, ISSUER, CLIENT), 0);
    assert_string_equal(log, "");
    assert_string_equal(cfg.issuer, "https://auth.example.com/");
    assert_string_equal(cfg.client_id, "pam-ory");
    assert_string_equal(cfg.scope, "openid");
    assert_string_equal(cfg.username_claim, "sub");
    assert_string_equal(cfg.cache_dir, PAMORY_CACHE_DIR);
    assert_string_equal(cfg.config_file, f->conf);
    assert_int_equal(cfg.mode, PAMORY_MODE_DEVICE);
    assert_int_equal(cfg.qr, PAMORY_QR_AUTO);
    assert_int_equal(cfg.client_auth_method, PAMORY_CLIENT_AUTH_DEFAULT);
    assert_int_equal(cfg.timeout, 110);
    assert_false(cfg.allow_root);
    assert_false(cfg.debug);
    assert_null(cfg.client_secret_file);
    assert_null(cfg.map_file);
    assert_null(cfg.admin_url);
    assert_null(cfg.admin_token_file);
    assert_null(cfg.ca_file);
    free(log);
    pamory_config_free(&cfg);
    assert_null(cfg.issuer);
    assert_null(cfg.config_file);
}

/* The default file may be absent: module arguments alone then suffice. */
static void test_missing_default_file_ok(void **state)
{
    struct pamory_config cfg;
    char *log;

    (void)state;
    if (access(PAMORY_CONFIG_FILE, F_OK) == 0)
        skip();   /* a real installation: nothing to test here */
    assert_int_equal(LOAD(&cfg, &log, ISSUER, CLIENT), 0);
    assert_string_equal(log, "");
    assert_string_equal(cfg.config_file, PAMORY_CONFIG_FILE);
    free(log);
    pamory_config_free(&cfg);
}

static void test_explicit_missing_file(void **state)
{
    struct fixture *f = *state;
    struct pamory_config cfg;
    char *log;

    assert_int_equal(LOAD(&cfg, &log, f->config_arg, ISSUER, CLIENT), -1);
    assert_int_equal(count_lines(log), 1);
    assert_non_null(strstr(log, f->conf));
    free(log);
    pamory_config_free(&cfg);
}

static void test_file_and_argv_precedence(void **state)
{
    struct fixture *f = *state;
    struct pamory_config cfg;
    char *log;

    write_file(f->conf,
               "# pam_ory test\n"
               "\n"
               "  issuer   =   http://127.0.0.1:4444/  \n"
               "client_id=from-file\r\n"
               "\t# an indented comment\n"
               "scope = openid offline_access profile\n"
               "timeout = 60\n"
               "qr = ascii\n"
               "mode = consent\n"
               "client_id = weird#but-fine\n"
               "allow_root = on",   /* no final newline */
               0644);
    assert_int_equal(LOAD(&cfg, &log, f->config_arg, "timeout=120", "qr=off"), 0);
    assert_string_equal(log, "");
    assert_string_equal(cfg.issuer, "http://127.0.0.1:4444/");
    assert_string_equal(cfg.client_id, "weird#but-fine");
    assert_string_equal(cfg.scope, "openid offline_access profile");
    assert_int_equal(cfg.timeout, 120);
    assert_int_equal(cfg.qr, PAMORY_QR_OFF);
    assert_int_equal(cfg.mode, PAMORY_MODE_CONSENT);
    assert_true(cfg.allow_root);
    free(log);
    pamory_config_free(&cfg);
}

/* A bare "debug" argument; debug= in arguments overrides the file's. */
static void test_debug(void **state)
{
    struct fixture *f = *state;
    struct pamory_config cfg;
    char *log;

    write_file(f->conf, ISSUER "\n" CLIENT "\n", 0644);
    assert_int_equal(LOAD(&cfg, &log, f->config_arg, "debug"), 0);
    assert_true(cfg.debug);
    /* Debug shows the effective configuration: the file, then one line per key. */
    assert_non_null(strstr(log, "config: timeout = 110\n"));
    assert_non_null(strstr(log, "config: issuer = https://auth.example.com/\n"));
    assert_non_null(strstr(log, "config: ca_file = (not set)\n"));
    assert_non_null(strstr(log, f->conf));
    assert_int_equal(count_lines(log), 27);   /* the file line and 26 keys */
    free(log);
    pamory_config_free(&cfg);

    write_file(f->conf, ISSUER "\n" CLIENT "\ndebug = yes\n", 0644);
    assert_int_equal(LOAD(&cfg, &log, f->config_arg, "debug=no"), 0);
    assert_false(cfg.debug);
    assert_string_equal(log, "");
    free(log);
    pamory_config_free(&cfg);
}

/* A repeated key: the later value wins, and debug says so. */
static void test_duplicate_key(void **state)
{
    struct fixture *f = *state;
    struct pamory_config cfg;
    char *log;

    write_file(f->conf, ISSUER "\n" CLIENT "\ntimeout = 30\ntimeout = 40\n", 0644);
    assert_int_equal(LOAD(&cfg, &log, f->config_arg, "debug"), 0);
    assert_int_equal(cfg.timeout, 40);
    assert_non_null(strstr(log, "line 4: timeout is set again"));
    free(log);
    pamory_config_free(&cfg);
}

/* Every documented key is accepted (this also proves the table is sorted). */
static void test_every_key(void **state)
{
    struct fixture *f = *state;
    struct pamory_config cfg;
    char *log;

    write_file(f->conf, "", 0644);
    assert_int_equal(LOAD(&cfg, &log, f->config_arg,
                          "admin_token_file=/etc/pam_ory/admin-token",
                          "admin_url=https://admin.example.com/",
                          "allow_root=yes", "ca_file=/etc/pam_ory/ca.pem",
                          "cache_dir=/var/tmp/pam_ory", "client_auth_method=client_secret_post",
                          "client_id=c", "client_secret_file=/etc/pam_ory/secret",
                          "debug=0", "issuer=https://id.example.org/",
                          "map_file=/etc/pam_ory/map", "mode=token", "qr=utf8",
                          "scope=openid", "timeout=3600", "username_claim=email"), 0);
    assert_string_equal(log, "");
    assert_string_equal(cfg.admin_token_file, "/etc/pam_ory/admin-token");
    assert_string_equal(cfg.admin_url, "https://admin.example.com/");
    assert_true(cfg.allow_root);
    assert_string_equal(cfg.ca_file, "/etc/pam_ory/ca.pem");
    assert_string_equal(cfg.cache_dir, "/var/tmp/pam_ory");
    assert_int_equal(cfg.client_auth_method, PAMORY_CLIENT_AUTH_POST);
    assert_string_equal(cfg.client_id, "c");
    assert_string_equal(cfg.client_secret_file, "/etc/pam_ory/secret");
    assert_false(cfg.debug);
    assert_string_equal(cfg.issuer, "https://id.example.org/");
    assert_string_equal(cfg.map_file, "/etc/pam_ory/map");
    assert_int_equal(cfg.mode, PAMORY_MODE_TOKEN);
    assert_int_equal(cfg.qr, PAMORY_QR_UTF8);
    assert_string_equal(cfg.scope, "openid");
    assert_int_equal(cfg.timeout, 3600);
    assert_string_equal(cfg.username_claim, "email");
    free(log);
    pamory_config_free(&cfg);
}

static void test_bool_words(void **state)
{
    static const char *const yes[] = { "yes", "true", "1", "on" };
    static const char *const no[] = { "no", "false", "0", "off" };
    struct fixture *f = *state;
    char line[128];
    size_t i;

    for (i = 0; i < 4; i++) {
        struct pamory_config cfg;
        char *log;

        snprintf(line, sizeof(line), ISSUER "\n" CLIENT "\nallow_root = %s\ndebug = %s\n",
                 yes[i], no[i]);
        write_file(f->conf, line, 0644);
        assert_int_equal(LOAD(&cfg, &log, f->config_arg), 0);
        assert_true(cfg.allow_root);
        assert_false(cfg.debug);
        free(log);
        pamory_config_free(&cfg);
    }
}

static void test_client_auth_consistent(void **state)
{
    struct fixture *f = *state;
    struct pamory_config cfg;
    char *log;

    write_file(f->conf, ISSUER "\n" CLIENT "\n", 0644);
    assert_int_equal(LOAD(&cfg, &log, f->config_arg, "client_secret_file=/etc/s"), 0);
    assert_int_equal(cfg.client_auth_method, PAMORY_CLIENT_AUTH_DEFAULT);
    free(log);
    pamory_config_free(&cfg);
    assert_int_equal(LOAD(&cfg, &log, f->config_arg, "client_auth_method=none"), 0);
    assert_int_equal(cfg.client_auth_method, PAMORY_CLIENT_AUTH_NONE);
    free(log);
    pamory_config_free(&cfg);
    assert_int_equal(LOAD(&cfg, &log, f->config_arg, "client_auth_method=client_secret_basic",
                          "client_secret_file=/etc/s"), 0);
    assert_int_equal(cfg.client_auth_method, PAMORY_CLIENT_AUTH_BASIC);
    free(log);
    pamory_config_free(&cfg);
}

static void test_enum_names(void **state)
{
    (void)state;
    assert_string_equal(pamory_mode_name(PAMORY_MODE_DEVICE), "device");
    assert_string_equal(pamory_mode_name(PAMORY_MODE_TOKEN), "token");
    assert_string_equal(pamory_mode_name(PAMORY_MODE_CONSENT), "consent");
    assert_string_equal(pamory_qr_name(PAMORY_QR_AUTO), "auto");
    assert_string_equal(pamory_qr_name(PAMORY_QR_UTF8), "utf8");
    assert_string_equal(pamory_qr_name(PAMORY_QR_ASCII), "ascii");
    assert_string_equal(pamory_qr_name(PAMORY_QR_OFF), "off");
    assert_string_equal(pamory_mode_name((enum pamory_mode)42), "unknown");
}

/* ------------------------------------------------------------ config: errors */

#define BASE ISSUER "\n" CLIENT "\n"

static void test_unknown_key(void **state)
{
    expect_failure(*state, BASE "colour = blue\n", 1, "line 3: colour: unknown key", NULL);
}

static void test_bad_bool(void **state)
{
    expect_failure(*state, BASE "allow_root = maybe\n", 1,
                   "line 3: allow_root: \"maybe\" is not", NULL);
    expect_failure(*state, BASE "debug = YES\n", 1, "line 3: debug:", NULL);
}

static void test_bad_enum(void **state)
{
    expect_failure(*state, BASE "mode = password\n", 1,
                   "line 3: mode: \"password\" is not one of consent, device or token", NULL);
    expect_failure(*state, BASE "qr = sixel\n", 1, "line 3: qr: \"sixel\"", NULL);
    expect_failure(*state, BASE "client_auth_method = private_key_jwt\n", 1,
                   "line 3: client_auth_method: \"private_key_jwt\"", NULL);
}

static void test_bad_timeout(void **state)
{
    expect_failure(*state, BASE "timeout = 9\n", 1, "timeout: 9 is out of range (10..3600)", NULL);
    expect_failure(*state, BASE "timeout = 3601\n", 1, "timeout: 3601 is out of range", NULL);
    expect_failure(*state, BASE "timeout = 1m\n", 1, "timeout: \"1m\" is not a whole number", NULL);
    expect_failure(*state, BASE "timeout = -1\n", 1, "timeout: \"-1\" is not", NULL);
    expect_failure(*state, BASE "timeout = +60\n", 1, "timeout: \"+60\" is not", NULL);
    expect_failure(*state, BASE "timeout = 0x3c\n", 1, "timeout: \"0x3c\" is not", NULL);
    expect_failure(*state, BASE "timeout = 4294967356\n", 1, "timeout: \"4294967356\" is not", NULL);
    expect_failure(*state, BASE "timeout = 99999999999999999999\n", 1, "timeout:", NULL);
}

static void test_empty_value(void **state)
{
    expect_failure(*state, BASE "scope =\n", 1, "line 3: scope: empty value", NULL);
}

static void test_trailing_comment(void **state)
{
    expect_failure(*state, BASE "timeout = 60  # one minute\n", 1,
                   "line 3: timeout: comments must be on a line of their own", NULL);
}

static void test_missing_required(void **state)
{
    expect_failure(*state, ISSUER "\n", 1, "client_id: required but not set", NULL);
    expect_failure(*state, CLIENT "\n", 1, "issuer: required but not set", NULL);
    expect_failure(*state, "", 2, "issuer: required", "client_id: required", NULL);
}

static void test_relative_paths(void **state)
{
    static const char *const keys[] = {
        "client_secret_file", "map_file", "admin_token_file", "ca_file", "cache_dir"
    };
    char content[256];
    size_t i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char want[128];

        snprintf(content, sizeof(content), BASE "%s = etc/pam_ory/x\n", keys[i]);
        snprintf(want, sizeof(want), "line 3: %s: \"etc/pam_ory/x\" is not an absolute path",
                 keys[i]);
        expect_failure(*state, content, 1, want, NULL);
    }
}

static void test_relative_config_argument(void **state)
{
    struct pamory_config cfg;
    char *log;

    (void)state;
    assert_int_equal(LOAD(&cfg, &log, "config=pam_ory.conf", ISSUER, CLIENT), -1);
    assert_int_equal(count_lines(log), 1);
    assert_non_null(strstr(log, "module argument: config: \"pam_ory.conf\" is not an absolute"));
    free(log);
    pamory_config_free(&cfg);
}

static void test_insecure_issuer(void **state)
{
    struct fixture *f = *state;
    struct pamory_config cfg;
    char *log;

    expect_failure(f, "issuer = http://auth.example.com/\n" CLIENT "\n", 1,
                   "line 1: issuer: \"http://auth.example.com/\" must be an https:// URL", NULL);
    expect_failure(f, "issuer = auth.example.com\n" CLIENT "\n", 1, "line 1: issuer:", NULL);
    expect_failure(f, BASE "admin_url = http://hydra-admin:4445/\n", 1, "line 3: admin_url:",
                   NULL);
    write_file(f->conf, CLIENT "\n", 0644);
    assert_int_equal(LOAD(&cfg, &log, f->config_arg, "issuer=http://localhost:4444/"), 0);
    free(log);
    pamory_config_free(&cfg);
}

/* The line may be a pasted secret: named by number, never echoed. */
static void test_line_without_equals(void **state)
{
    struct fixture *f = *state;
    char want[160];

    snprintf(want, sizeof(want), "%s line 3: expected \"key = value\"", f->conf);
    expect_failure(f, BASE "hunter2-s3cr3t\n", 1, want, NULL);
    expect_failure(f, BASE "= value\n", 1, "line 3: expected", NULL);
}

static void test_inline_secret(void **state)
{
    struct fixture *f = *state;
    struct pamory_config cfg;
    char *log;

    write_file(f->conf, BASE "client_secret = hunter2-s3cr3t\n", 0644);
    assert_int_equal(LOAD(&cfg, &log, f->config_arg, "admin_token=ory_pat_s3cr3t"), -1);
    assert_int_equal(count_lines(log), 2);
    assert_non_null(strstr(log, "line 3: client_secret: secrets are not accepted"));
    assert_non_null(strstr(log, "set client_secret_file"));
    assert_non_null(strstr(log, "module argument: admin_token: secrets are not accepted"));
    assert_null(strstr(log, "s3cr3t"));
    free(log);
    pamory_config_free(&cfg);
}

static void test_client_auth_contradictions(void **state)
{
    expect_failure(*state, BASE "client_auth_method = client_secret_basic\n", 1,
                   "client_auth_method: client_secret_basic needs client_secret_file", NULL);
    expect_failure(*state, BASE "client_auth_method = client_secret_post\n", 1,
                   "client_auth_method: client_secret_post needs client_secret_file", NULL);
    expect_failure(*state, BASE "client_auth_method = none\nclient_secret_file = /etc/s\n", 1,
                   "client_auth_method: none contradicts client_secret_file", NULL);
}

static void test_config_only_as_argument(void **state)
{
    expect_failure(*state, BASE "config = /etc/other.conf\n", 1,
                   "line 3: config: only valid as a module argument", NULL);
}

/* A bare word naming a yes/no key turns it on, like "debug". */
static void test_bare_flags(void **state)
{
    struct fixture *f = *state;
    struct pamory_config cfg;
    char *log;

    write_file(f->conf, BASE, 0644);
    assert_int_equal(LOAD(&cfg, &log, f->config_arg, "use_first_pass", "introspect"), 0);
    assert_true(cfg.use_first_pass);
    assert_true(cfg.introspect);
    assert_false(cfg.allow_root);
    assert_int_equal(cfg.jwks_max_stale, 86400);
    assert_string_equal(cfg.consent_scope, "sudo");
    free(log);
    pamory_config_free(&cfg);
}

static void test_bad_arguments(void **state)
{
    struct fixture *f = *state;
    struct pamory_config cfg;
    char *log;

    write_file(f->conf, BASE, 0644);
    assert_int_equal(LOAD(&cfg, &log, f->config_arg, "try_first_pass", "timeout=", "qr=big"), -1);
    assert_int_equal(count_lines(log), 3);
    assert_non_null(strstr(log, "module argument \"try_first_pass\": expected key=value"));
    assert_non_null(strstr(log, "module argument: timeout: empty value"));
    assert_non_null(strstr(log, "module argument: qr: \"big\""));
    free(log);
    pamory_config_free(&cfg);
}

/* All problems are reported, not just the first. */
static void test_reports_every_problem(void **state)
{
    expect_failure(*state, "colour = blue\ntimeout = 1\nmode = x\nnonsense\n", 6,
                   "line 1: colour", "line 2: timeout", "line 3: mode", "line 4: expected",
                   "issuer: required", "client_id: required", NULL);
}

/* Load f->conf as it is now and expect one refusal line containing why. */
static void expect_file_refused(const struct fixture *f, const char *why)
{
    struct pamory_config cfg;
    char *log;

    assert_int_equal(LOAD(&cfg, &log, f->config_arg), -1);
    if (count_lines(log) != 1 || strstr(log, why) == NULL)
        fail_msg("expected one line with \"%s\", got:\n%s", why, log);
    free(log);
    pamory_config_free(&cfg);
}

static void test_unsafe_config_file(void **state)
{
    struct fixture *f = *state;
    char target[128];

    write_file(f->conf, BASE, 0664);
    expect_file_refused(f, "unsafe mode 0664");
    in_dir(f, "real.conf", target, sizeof(target));
    write_file(target, BASE, 0644);
    assert_int_equal(unlink(f->conf), 0);
    assert_int_equal(symlink(target, f->conf), 0);
    expect_file_refused(f, "symbolic link");
}

/* ------------------------------------------------------------ safe_file */

/* Read path with a captured log; returns the result, *log for the caller. */
static int read_captured(const char *path, enum pamory_file_kind kind, bool missing_ok,
                         char **out, size_t *len, char **log)
{
    struct pamory_log lg = { NULL, false };
    struct capture c;
    int rc;

    capture_begin(&c);
    rc = pamory_read_file(&lg, path, kind, missing_ok, out, len);
    *log = capture_end(&c);
    return rc;
}

static void expect_refused(const char *path, enum pamory_file_kind kind, const char *why)
{
    char *out = (char *)"untouched", *log;

    assert_int_equal(read_captured(path, kind, false, &out, NULL, &log), -1);
    assert_null(out);
    assert_int_equal(count_lines(log), 1);
    if (strstr(log, why) == NULL || strstr(log, path) == NULL)
        fail_msg("log lacks \"%s\" or the path:\n%s", why, log);
    free(log);
}

static void test_read_ok(void **state)
{
    struct fixture *f = *state;
    char path[128], *out, *log;
    size_t len = 0;

    in_dir(f, "policy", path, sizeof(path));
    write_file(path, "alice@example.com alice\n", 0644);
    assert_int_equal(read_captured(path, PAMORY_FILE_POLICY, false, &out, &len, &log), 0);
    assert_string_equal(out, "alice@example.com alice\n");
    assert_int_equal(len, 24);
    assert_string_equal(log, "");
    free(out);
    free(log);
    /* An empty file is a valid (empty) policy file. */
    write_file(path, "", 0600);
    assert_int_equal(read_captured(path, PAMORY_FILE_POLICY, false, &out, NULL, &log), 0);
    assert_string_equal(out, "");
    free(out);
    free(log);
}

static void test_read_missing(void **state)
{
    struct fixture *f = *state;
    char path[128], *out, *log;

    in_dir(f, "absent", path, sizeof(path));
    assert_int_equal(read_captured(path, PAMORY_FILE_POLICY, true, &out, NULL, &log), 1);
    assert_string_equal(log, "");
    free(log);
    expect_refused(path, PAMORY_FILE_POLICY, "No such file");
    expect_refused("relative/path", PAMORY_FILE_POLICY, "not an absolute path");
}

static void test_read_not_regular(void **state)
{
    struct fixture *f = *state;
    char path[128];

    expect_refused(f->dir, PAMORY_FILE_POLICY, "not a regular file");
    /* A FIFO must be refused without waiting for a writer. */
    in_dir(f, "fifo", path, sizeof(path));
    assert_int_equal(mkfifo(path, 0600), 0);
    expect_refused(path, PAMORY_FILE_POLICY, "not a regular file");
}

static void test_read_symlink(void **state)
{
    struct fixture *f = *state;
    char target[128], link[128];

    in_dir(f, "target", target, sizeof(target));
    in_dir(f, "link", link, sizeof(link));
    write_file(target, "x\n", 0600);
    assert_int_equal(symlink(target, link), 0);
    expect_refused(link, PAMORY_FILE_POLICY, "symbolic link");
    expect_refused(link, PAMORY_FILE_SECRET, "symbolic link");
}

static void test_read_unsafe_modes(void **state)
{
    struct fixture *f = *state;
    char path[128], *out, *log;

    in_dir(f, "file", path, sizeof(path));
    write_file(path, "x\n", 0664);
    expect_refused(path, PAMORY_FILE_POLICY, "unsafe mode 0664");
    write_file(path, "x\n", 0646);
    expect_refused(path, PAMORY_FILE_POLICY, "unsafe mode 0646");
    /* Secrets: others may not even read, group may read but not write. */
    write_file(path, "x\n", 0644);
    expect_refused(path, PAMORY_FILE_SECRET, "unsafe mode 0644");
    write_file(path, "x\n", 0604);
    expect_refused(path, PAMORY_FILE_SECRET, "unsafe mode 0604");
    write_file(path, "x\n", 0660);
    expect_refused(path, PAMORY_FILE_SECRET, "unsafe mode 0660");
    write_file(path, "x\n", 0640);
    assert_int_equal(read_captured(path, PAMORY_FILE_SECRET, false, &out, NULL, &log), 0);
    assert_string_equal(out, "x\n");
    pamory_secret_free(out);
    free(log);
}

static void test_read_wrong_owner(void **state)
{
    struct fixture *f = *state;
    char path[128];

    if (geteuid() != 0)
        skip();   /* only root can give a file away */
    in_dir(f, "foreign", path, sizeof(path));
    write_file(path, "x\n", 0644);
    assert_int_equal(chown(path, 65534, 65534), 0);
    expect_refused(path, PAMORY_FILE_POLICY, "owned by uid 65534");
}

static void test_read_too_large_or_nul(void **state)
{
    struct fixture *f = *state;
    char path[128];
    char *big = malloc(PAMORY_FILE_MAX + 1);

    assert_non_null(big);
    memset(big, 'a', PAMORY_FILE_MAX + 1);
    in_dir(f, "big", path, sizeof(path));
    write_bytes(path, big, PAMORY_FILE_MAX + 1, 0600);
    free(big);
    expect_refused(path, PAMORY_FILE_POLICY, "too large");
    write_bytes(path, "ab\0cd\n", 6, 0600);
    expect_refused(path, PAMORY_FILE_POLICY, "NUL byte");
}

/* Read a secret file holding content; returns the result and the secret. */
static int secret_from(const struct fixture *f, const char *content, char **secret, char **log)
{
    struct pamory_log lg = { NULL, false };
    struct capture c;
    char path[128];
    int rc;

    in_dir(f, "secret", path, sizeof(path));
    write_file(path, content, 0600);
    capture_begin(&c);
    rc = pamory_read_secret(&lg, path, secret);
    *log = capture_end(&c);
    return rc;
}

static void test_secret_ok(void **state)
{
    static const char *const forms[] = { "s3cr3t", "s3cr3t\n", "s3cr3t\r\n" };
    char *secret, *log;
    size_t i;

    for (i = 0; i < 3; i++) {
        assert_int_equal(secret_from(*state, forms[i], &secret, &log), 0);
        assert_string_equal(secret, "s3cr3t");
        assert_string_equal(log, "");
        pamory_secret_free(secret);
        free(log);
    }
}

static void test_secret_refused(void **state)
{
    static const struct {
        const char *content;
        const char *why;
    } cases[] = {
        { "", "empty" },
        { "\n", "empty" },
        { "\r\n", "empty" },
        { "s3cr3t\n\n", "more than one line" },
        { "s3cr3t\nother\n", "more than one line" },
        { "s3cr3t\r", "more than one line" },
    };
    char *secret, *log;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        secret = (char *)"untouched";
        assert_int_equal(secret_from(*state, cases[i].content, &secret, &log), -1);
        assert_null(secret);
        assert_non_null(strstr(log, cases[i].why));
        assert_null(strstr(log, "s3cr3t"));
        free(log);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_default_file_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explicit_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_and_argv_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_debug, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bool_words, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_auth_consistent, setup, teardown),
        cmocka_unit_test(test_enum_names),
        cmocka_unit_test_setup_teardown(test_unknown_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_bool, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_enum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trailing_comment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relative_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relative_config_argument, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insecure_issuer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_without_equals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inline_secret, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_auth_contradictions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_only_as_argument, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bare_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports_every_problem, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsafe_config_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_not_regular, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_symlink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_unsafe_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_wrong_owner, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_too_large_or_nul, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_refused, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
