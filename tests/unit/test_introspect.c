/*
 * Unit tests for pamory_introspect (src/token/introspect.c), with HTTP
 * replaced by a fake that records the request (URL, form fields, Basic or
 * Bearer authentication) and plays back one scripted answer.
 *
 * This program defines every function of http.c that the code under test
 * reaches, so the linker never pulls http.o out of libpamory.  Each call's
 * log (stderr, as there is no PAM handle) is captured and must never hold the
 * token or the bearer key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "json.h"
#include "token/introspect.h"

#define TOKEN "ory_at_SECRETaccessTOKEN.sig"
#define BEARER_KEY "ory_apikey_SECRETkey"
#define CLIENT_SECRET "SECRETclientsecret"
#define ISSUER "https://auth.example.com/"
#define ADMIN "http://127.0.0.1:4445"
#define URL ADMIN "/admin/oauth2/introspect"

/* Config strings are char * in the struct but never written through here. */
#define S(x) ((char *)(uintptr_t)(x))

/* ---------------------------------------------------------- fake HTTP */

#define MAX_FIELDS 8

static struct {
    long status;          /* scripted answer; 0: transport failure */
    char body[2048];
    int calls;
    char url[512];        /* the recorded request */
    char field[MAX_FIELDS][2][256];
    size_t nfields;
    char basic[2][128];   /* user, password */
    int has_basic;
    char bearer[256];
    int has_bearer;
} fake;

static void script(long status, const char *body)
{
    memset(&fake, 0, sizeof(fake));
    fake.status = status;
    snprintf(fake.body, sizeof(fake.body), "%s", body);
}

int pamory_http_post_form(const struct pamory_http *http, const char *url,
                          const struct pamory_form_field *fields, size_t nfields,
                          const struct pamory_basic_auth *basic, const char *bearer,
                          struct pamory_http_response *resp)
{
    size_t i;

    (void)http;
    memset(resp, 0, sizeof(*resp));
    fake.calls++;
    assert_true(basic == NULL || bearer == NULL);
    assert_true(nfields <= MAX_FIELDS);
    snprintf(fake.url, sizeof(fake.url), "%s", url);
    for (i = 0; i < nfields; i++) {
        snprintf(fake.field[i][0], sizeof(fake.field[i][0]), "%s", fields[i].name);
        snprintf(fake.field[i][1], sizeof(fake.field[i][1]), "%s", fields[i].value);
    }
    fake.nfields = nfields;
    if ((fake.has_basic = basic != NULL)) {
        snprintf(fake.basic[0], sizeof(fake.basic[0]), "%s", basic->user);
        snprintf(fake.basic[1], sizeof(fake.basic[1]), "%s", basic->password);
    }
    if ((fake.has_bearer = bearer != NULL))
        snprintf(fake.bearer, sizeof(fake.bearer), "%s", bearer);
    if (fake.status == 0)
        return -1;
    resp->status = fake.status;
    resp->body = strdup(fake.body);
    resp->len = strlen(fake.body);
    return 0;
}

int pamory_http_get(const struct pamory_http *http, const char *url,
                    struct pamory_http_response *resp)
{
    (void)http;
    (void)url;
    (void)resp;
    fail_msg("introspection must not GET anything");
    return -1;
}

void pamory_http_response_free(struct pamory_http_response *resp)
{
    free(resp->body);
    memset(resp, 0, sizeof(*resp));
}

/* The recorded form field name, or NULL if it was not sent. */
static const char *sent(const char *name)
{
    size_t i;

    for (i = 0; i < fake.nfields; i++)
        if (strcmp(fake.field[i][0], name) == 0)
            return fake.field[i][1];
    return NULL;
}

/* -------------------------------------------------------- answer bodies */

/* Members of an introspection answer as raw JSON; NULL: Hydra's default; OMIT: left out. */
struct members {
    const char *active, *use, *exp, *sub, *iss, *client_id, *scope;
};
#define OMIT ""

static const char *member(char *buf, size_t len, const char *name, const char *value, const char *dflt)
{
    if (value == NULL)
        value = dflt;
    if (value[0] == '\0')
        return "";
    snprintf(buf, len, ",\"%s\":%s", name, value);
    return buf;
}

/* An active access token as Hydra answers (hydra-api.md 2), with m's changes. */
static const char *answer(struct members m)
{
    static char body[2048];
    char exp[32], b[7][256];

    snprintf(exp, sizeof(exp), "%lld", (long long)time(NULL) + 600);
    snprintf(body, sizeof(body), "{\"aud\":[],\"token_type\":\"Bearer\",\"ext\":{\"unix_user\":\"alice\"}%s%s%s%s%s%s%s}",
             member(b[0], sizeof(b[0]), "active", m.active, "true"),
             member(b[1], sizeof(b[1]), "token_use", m.use, "\"access_token\""),
             member(b[2], sizeof(b[2]), "exp", m.exp, exp),
             member(b[3], sizeof(b[3]), "sub", m.sub, "\"user-123\""),
             member(b[4], sizeof(b[4]), "iss", m.iss, "\"" ISSUER "\""),
             member(b[5], sizeof(b[5]), "client_id", m.client_id, "\"pam-host\""),
             member(b[6], sizeof(b[6]), "scope", m.scope, "\"openid offline_access sudo\""));
    return body;
}

/* ----------------------------------------------------------- fixture */

struct fixture {
    struct pamory_ctx ctx;
    struct pamory_client client;   /* public by default */
    char dir[64];                  /* mkdtemp, for bearer key files */
    char key_file[96];
    char log[8192];                /* the last call's captured log */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    f->ctx.log = (struct pamory_log){ NULL, true };   /* debug lines are checked too */
    f->ctx.cfg.issuer = S(ISSUER);
    f->ctx.cfg.client_id = S("pam-host");
    f->ctx.cfg.admin_url = S(ADMIN);
    f->client = (struct pamory_client){ "pam-host", PAMORY_CLIENT_AUTH_NONE, NULL };
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_introspect.XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->key_file, sizeof(f->key_file), "%s/admin.key", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    unlink(f->key_file);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Write the bearer key file with the given mode and point admin_token_file at it. */
static void key_file(struct fixture *f, mode_t mode)
{
    FILE *fp = fopen(f->key_file, "w");

    assert_non_null(fp);
    fputs(BEARER_KEY "\n", fp);
    fclose(fp);
    assert_int_equal(chmod(f->key_file, mode), 0);
    f->ctx.cfg.admin_token_file = f->key_file;
}

/*
 * Introspect TOKEN with stderr captured into f->log (and echoed), checking
 * that no log line holds the token or a secret, and that a refusal returns
 * no answer.
 */
static int run(struct fixture *f, json_object **out)
{
    json_object *a = (json_object *)&a;   /* not NULL: the call must set it */
    FILE *tmp = tmpfile();
    int saved, r;
    size_t n;

    assert_non_null(tmp);
    fflush(stderr);
    saved = dup(2);
    assert_true(saved >= 0 && dup2(fileno(tmp), 2) == 2);
    r = pamory_introspect(&f->ctx, &(struct pamory_http){ &f->ctx.log, NULL, 0 }, &f->client, TOKEN, &a);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    n = fread(f->log, 1, sizeof(f->log) - 1, tmp);
    f->log[n] = '\0';
    fclose(tmp);
    fputs(f->log, stderr);
    assert_null(strstr(f->log, TOKEN));
    assert_null(strstr(f->log, BEARER_KEY));
    assert_null(strstr(f->log, CLIENT_SECRET));
    if (r != PAM_SUCCESS)
        assert_null(a);
    if (out != NULL)
        *out = a;
    else if (a != NULL)
        pamory_json_put_wiped(a);
    return r;
}

/* A refusal: PAM_AUTH_ERR and exactly one log line, naming the check. */
static void assert_refused(struct fixture *f, const char *reason)
{
    const char *nl;

    assert_int_equal(run(f, NULL), PAM_AUTH_ERR);
    assert_non_null(strstr(f->log, "introspection refused token sha256:"));
    if (strstr(f->log, reason) == NULL)
        fail_msg("log \"%s\" lacks \"%s\"", f->log, reason);
    nl = strchr(f->log, '\n');
    assert_true(nl != NULL && nl[1] == '\0');
}

/* ------------------------------------------------------------- tests */

static void active_token_accepted(void **state)
{
    struct fixture *f = *state;
    json_object *a = NULL;
    const char *sub;

    script(200, answer((struct members){ 0 }));
    assert_int_equal(run(f, &a), PAM_SUCCESS);
    assert_non_null(a);
    assert_int_equal(pamory_json_string(a, "sub", &sub), PAMORY_JSON_OK);
    assert_string_equal(sub, "user-123");
    pamory_json_put_wiped(a);
    /* The request: the token and nothing else, to the admin endpoint. */
    assert_int_equal(fake.calls, 1);
    assert_string_equal(fake.url, URL);
    assert_int_equal(fake.nfields, 1);
    assert_string_equal(sent("token"), TOKEN);
    assert_false(fake.has_basic);
    assert_false(fake.has_bearer);
}

static void active_must_be_literal_true(void **state)
{
    struct fixture *f = *state;

    script(200, answer((struct members){ .active = "\"true\"" }));
    assert_refused(f, "not the JSON literal true");
    script(200, answer((struct members){ .active = "1" }));
    assert_refused(f, "not the JSON literal true");
    script(200, answer((struct members){ .active = OMIT }));
    assert_refused(f, "\"active\" is missing");
}

static void inactive_refused(void **state)
{
    struct fixture *f = *state;

    script(200, "{\"active\":false}");
    assert_refused(f, "not active");
}

static void refresh_token_refused(void **state)
{
    struct fixture *f = *state;

    script(200, answer((struct members){ .use = "\"refresh_token\"" }));
    assert_refused(f, "refresh token");
}

static void token_use_missing_refused(void **state)
{
    struct fixture *f = *state;

    script(200, answer((struct members){ .use = OMIT }));
    assert_refused(f, "token_use is missing");
    script(200, answer((struct members){ .use = "\"id_token\\u001b[2J\"" }));
    assert_refused(f, "token_use is \"id_token?[2J\"");
}

static void exp_checked(void **state)
{
    struct fixture *f = *state;
    char past[32];

    script(200, answer((struct members){ .exp = OMIT }));
    assert_refused(f, "exp is missing");
    snprintf(past, sizeof(past), "%lld", (long long)time(NULL) - 30);
    script(200, answer((struct members){ .exp = past }));
    assert_refused(f, "expired");
    script(200, answer((struct members){ .exp = "\"4102444800\"" }));
    assert_refused(f, "exp is not a whole number");
}

static void sub_required(void **state)
{
    struct fixture *f = *state;

    script(200, answer((struct members){ .sub = OMIT }));
    assert_refused(f, "sub is missing");
    script(200, answer((struct members){ .sub = "\"\"" }));
    assert_refused(f, "sub is missing, empty");
}

static void iss_must_match_if_present(void **state)
{
    struct fixture *f = *state;

    /* Without the trailing slash it is another issuer. */
    script(200, answer((struct members){ .iss = "\"https://auth.example.com\"" }));
    assert_refused(f, "is not the configured issuer");
    script(200, answer((struct members){ .iss = "42" }));
    assert_refused(f, "iss is not a string");
    script(200, answer((struct members){ .iss = OMIT }));
    assert_int_equal(run(f, NULL), PAM_SUCCESS);
}

static void allowed_clients(void **state)
{
    struct fixture *f = *state;

    /* Our own client's tokens pass; another client's only when allowed_clients names it. */
    script(200, answer((struct members){ 0 }));
    assert_int_equal(run(f, NULL), PAM_SUCCESS);
    script(200, answer((struct members){ .client_id = "\"web-app\"" }));
    assert_refused(f, "client_id \"web-app\" is neither client_id nor in allowed_clients");
    f->ctx.cfg.allowed_clients = S("other  web-app");
    script(200, answer((struct members){ .client_id = "\"web-app\"" }));
    assert_int_equal(run(f, NULL), PAM_SUCCESS);
    /* A prefix or suffix of a listed id is not that id. */
    f->ctx.cfg.allowed_clients = S("web-app-2 web");
    script(200, answer((struct members){ .client_id = "\"web-app\"" }));
    assert_refused(f, "client_id \"web-app\" is neither client_id nor in allowed_clients");
    script(200, answer((struct members){ .client_id = OMIT }));
    assert_refused(f, "client_id is missing");
}

static void required_scope_sent_and_enforced(void **state)
{
    struct fixture *f = *state;

    f->ctx.cfg.required_scope = S("openid sudo");
    script(200, answer((struct members){ 0 }));
    assert_int_equal(run(f, NULL), PAM_SUCCESS);
    assert_string_equal(sent("scope"), "openid sudo");
    /* The server saying active is not enough: every required scope must be granted. */
    script(200, answer((struct members){ .scope = "\"openid offline_access sudoers\"" }));
    assert_refused(f, "scope \"sudo\" of required_scope is not granted");
    script(200, answer((struct members){ .scope = OMIT }));
    assert_refused(f, "scope \"openid\" of required_scope is not granted");
}

static void no_scope_field_without_required_scope(void **state)
{
    struct fixture *f = *state;

    script(200, answer((struct members){ .scope = OMIT }));
    assert_int_equal(run(f, NULL), PAM_SUCCESS);
    assert_null(sent("scope"));
}

static void bearer_key_from_file(void **state)
{
    struct fixture *f = *state;

    key_file(f, 0600);
    /* The bearer key wins over the client's own credentials. */
    f->client = (struct pamory_client){ "pam-host", PAMORY_CLIENT_AUTH_BASIC, S(CLIENT_SECRET) };
    script(200, answer((struct members){ 0 }));
    assert_int_equal(run(f, NULL), PAM_SUCCESS);
    assert_true(fake.has_bearer);
    assert_string_equal(fake.bearer, BEARER_KEY);
    assert_false(fake.has_basic);
    assert_null(sent("client_id"));
    assert_null(sent("client_secret"));
}

static void bearer_key_file_unsafe_mode(void **state)
{
    struct fixture *f = *state;

    key_file(f, 0644);
    script(200, answer((struct members){ 0 }));
    assert_int_equal(run(f, NULL), PAM_SERVICE_ERR);
    assert_int_equal(fake.calls, 0);
}

static void client_credentials_without_bearer(void **state)
{
    struct fixture *f = *state;

    f->client = (struct pamory_client){ "pam-host", PAMORY_CLIENT_AUTH_BASIC, S(CLIENT_SECRET) };
    script(200, answer((struct members){ 0 }));
    assert_int_equal(run(f, NULL), PAM_SUCCESS);
    assert_true(fake.has_basic);
    assert_string_equal(fake.basic[0], "pam-host");
    assert_string_equal(fake.basic[1], CLIENT_SECRET);
    assert_false(fake.has_bearer);
    assert_string_equal(sent("token"), TOKEN);
    assert_null(sent("client_secret"));

    f->client.method = PAMORY_CLIENT_AUTH_POST;
    assert_int_equal(run(f, NULL), PAM_SUCCESS);
    assert_false(fake.has_basic);
    assert_string_equal(sent("client_id"), "pam-host");
    assert_string_equal(sent("client_secret"), CLIENT_SECRET);
}

static void public_client_sends_no_auth(void **state)
{
    struct fixture *f = *state;

    script(200, answer((struct members){ 0 }));
    assert_int_equal(run(f, NULL), PAM_SUCCESS);
    assert_false(fake.has_basic);
    assert_false(fake.has_bearer);
    assert_null(sent("client_id"));
    assert_null(sent("client_secret"));
}

static void credentials_refused(void **state)
{
    struct fixture *f = *state;

    script(401, "{\"error\":\"The request could not be authorized\",\"error_description\":\"\"}");
    assert_int_equal(run(f, NULL), PAM_SERVICE_ERR);
    assert_non_null(strstr(f->log, "authentication used: none"));
    key_file(f, 0600);
    script(403, "{}");
    assert_int_equal(run(f, NULL), PAM_SERVICE_ERR);
    assert_non_null(strstr(f->log, "authentication used: bearer key from /tmp/test_introspect."));
    f->ctx.cfg.admin_token_file = NULL;
    f->client = (struct pamory_client){ "pam-host", PAMORY_CLIENT_AUTH_BASIC, S(CLIENT_SECRET) };
    assert_int_equal(run(f, NULL), PAM_SERVICE_ERR);
    assert_non_null(strstr(f->log, "authentication used: client credentials"));
}

static void server_unavailable(void **state)
{
    struct fixture *f = *state;

    script(503, "{\"error\":\"temporarily_unavailable\"}");
    assert_int_equal(run(f, NULL), PAM_AUTHINFO_UNAVAIL);
    script(429, "");
    assert_int_equal(run(f, NULL), PAM_AUTHINFO_UNAVAIL);
    script(0, "");
    assert_int_equal(run(f, NULL), PAM_AUTHINFO_UNAVAIL);
    assert_int_equal(fake.calls, 1);
}

static void broken_answers(void **state)
{
    struct fixture *f = *state;

    /* 200 with no JSON object: the admin API is broken, not the token bad. */
    script(200, "[{\"active\":true}]");
    assert_int_equal(run(f, NULL), PAM_AUTHINFO_UNAVAIL);
    script(200, "<html>");
    assert_int_equal(run(f, NULL), PAM_AUTHINFO_UNAVAIL);
}

static void other_4xx_is_configuration(void **state)
{
    struct fixture *f = *state;

    script(400, "{\"error\":\"invalid_request\",\"error_description\":\"bad \\u001b[31m body\"}");
    assert_int_equal(run(f, NULL), PAM_SERVICE_ERR);
    assert_non_null(strstr(f->log, "HTTP 400: invalid_request: bad ?[31m body"));
    assert_null(strchr(f->log, '\x1b'));
    script(404, "{\"error\":\"Unable to locate the resource\",\"error_description\":\"\"}");
    assert_int_equal(run(f, NULL), PAM_SERVICE_ERR);
    assert_non_null(strstr(f->log, "HTTP 404: Unable to locate the resource)"));
}

static void admin_url_trailing_slash(void **state)
{
    struct fixture *f = *state;

    f->ctx.cfg.admin_url = S(ADMIN "/");
    script(200, answer((struct members){ 0 }));
    assert_int_equal(run(f, NULL), PAM_SUCCESS);
    assert_string_equal(fake.url, URL);
    f->ctx.cfg.admin_url = S("https://project.projects.oryapis.com//");
    assert_int_equal(run(f, NULL), PAM_SUCCESS);
    assert_string_equal(fake.url, "https://project.projects.oryapis.com/admin/oauth2/introspect");
}

static void admin_url_unset(void **state)
{
    struct fixture *f = *state;

    f->ctx.cfg.admin_url = NULL;
    script(200, answer((struct members){ 0 }));
    assert_int_equal(run(f, NULL), PAM_SERVICE_ERR);
    assert_non_null(strstr(f->log, "introspection needs admin_url"));
    assert_int_equal(fake.calls, 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(active_token_accepted),
        T(active_must_be_literal_true),
        T(inactive_refused),
        T(refresh_token_refused),
        T(token_use_missing_refused),
        T(exp_checked),
        T(sub_required),
        T(iss_must_match_if_present),
        T(allowed_clients),
        T(required_scope_sent_and_enforced),
        T(no_scope_field_without_required_scope),
        T(bearer_key_from_file),
        T(bearer_key_file_unsafe_mode),
        T(client_credentials_without_bearer),
        T(public_client_sends_no_auth),
        T(credentials_refused),
        T(server_unavailable),
        T(broken_answers),
        T(other_4xx_is_configuration),
        T(admin_url_trailing_slash),
        T(admin_url_unset),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
