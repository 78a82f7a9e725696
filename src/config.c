/*
 * pam_ory configuration: one sorted table of keys, and three layers applied
 * in order: built-in defaults, the config file, then module arguments.
 *
 * File syntax: "key = value", one per line.  Whitespace around the '=' and
 * at both ends of a line is ignored; blank lines are fine.  A '#' starts a
 * comment only as the first non-blank character of a line.  Inside a value
 * a '#' is an ordinary character, but a value with a blank before a '#'
 * ("timeout = 60  # one minute") is refused: it is a trailing comment that
 * would otherwise become part of a scope or a client id unnoticed.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http.h"
#include "safe_file.h"
#include "words.h"

enum opt_type {
    OPT_STRING,
    OPT_PATH,       /* a string that must be an absolute path */
    OPT_URL,        /* a string that must pass pamory_url_allowed() */
    OPT_BOOL,
    OPT_UNSIGNED,   /* range-checked against min..max */
    OPT_ENUM        /* one of words[] */
};

/* A config-file word and the enum value it stands for. */
struct word {
    const char *name;
    int value;
};

struct option {
    const char *name;
    size_t offset;             /* into struct pamory_config */
    enum opt_type type;
    const char *def;           /* default, as written in the file; NULL: unset */
    const struct word *words;  /* OPT_ENUM */
    unsigned min, max;         /* OPT_UNSIGNED */
};

/* Enum fields are written as int: they must be int-sized. */
_Static_assert(sizeof(enum pamory_mode) == sizeof(int), "enum pamory_mode is not int-sized");
_Static_assert(sizeof(enum pamory_qr) == sizeof(int), "enum pamory_qr is not int-sized");
_Static_assert(sizeof(enum pamory_client_auth) == sizeof(int),
               "enum pamory_client_auth is not int-sized");

static const struct word auth_words[] = {
    { "client_secret_basic", PAMORY_CLIENT_AUTH_BASIC },
    { "client_secret_post", PAMORY_CLIENT_AUTH_POST },
    { "none", PAMORY_CLIENT_AUTH_NONE },
    { NULL, 0 }
};

static const struct word mode_words[] = {
    { "consent", PAMORY_MODE_CONSENT },
    { "device", PAMORY_MODE_DEVICE },
    { "token", PAMORY_MODE_TOKEN },
    { NULL, 0 }
};

static const struct word qr_words[] = {
    { "ascii", PAMORY_QR_ASCII },
    { "auto", PAMORY_QR_AUTO },
    { "off", PAMORY_QR_OFF },
    { "utf8", PAMORY_QR_UTF8 },
    { NULL, 0 }
};

static const struct word bool_words[] = {
    { "0", 0 }, { "1", 1 }, { "false", 0 }, { "no", 0 },
    { "off", 0 }, { "on", 1 }, { "true", 1 }, { "yes", 1 },
    { NULL, 0 }
};

#define K(field) .name = #field, .offset = offsetof(struct pamory_config, field)

/* Sorted by name (strcmp order): looked up with bsearch. */
static const struct option options[] = {
    { K(admin_token_file), .type = OPT_PATH },
    { K(admin_url), .type = OPT_URL },
    { K(allow_root), .type = OPT_BOOL, .def = "no" },
    { K(allowed_clients), .type = OPT_STRING },
    { K(ca_file), .type = OPT_PATH },
    { K(cache_dir), .type = OPT_PATH, .def = PAMORY_CACHE_DIR },
    { K(client_auth_method), .type = OPT_ENUM, .words = auth_words },
    { K(client_id), .type = OPT_STRING },
    { K(client_secret_file), .type = OPT_PATH },
    { K(consent_client), .type = OPT_STRING },
    { K(consent_max_age), .type = OPT_UNSIGNED, .def = "0", .min = 0, .max = 315360000 },
    { K(consent_scope), .type = OPT_STRING, .def = "sudo" },
    { K(debug), .type = OPT_BOOL, .def = "no" },
    { K(introspect), .type = OPT_BOOL, .def = "no" },
    { K(issuer), .type = OPT_URL },
    { K(jwks_max_stale), .type = OPT_UNSIGNED, .def = "86400", .min = 0, .max = 2592000 },
    { K(map_file), .type = OPT_PATH },
    { K(max_auth_age), .type = OPT_UNSIGNED, .def = "0", .min = 0, .max = 31536000 },
    { K(mode), .type = OPT_ENUM, .def = "device", .words = mode_words },
    { K(qr), .type = OPT_ENUM, .def = "auto", .words = qr_words },
    { K(required_acr), .type = OPT_STRING },
    { K(required_scope), .type = OPT_STRING },
    { K(scope), .type = OPT_STRING, .def = "openid" },
    { K(timeout), .type = OPT_UNSIGNED, .def = "110", .min = 10, .max = 3600 },
    { K(use_first_pass), .type = OPT_BOOL, .def = "no" },
    { K(username_claim), .type = OPT_STRING, .def = "sub" },
};

#undef K

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

/*
 * Keys someone might write to put a secret itself into the configuration.
 * pam.d files are world-readable and config files get copied into tickets,
 * so they get a pointed error instead of "unknown key".
 */
static const struct {
    const char *key;
    const char *use;
} inline_secrets[] = {
    { "admin_token", "admin_token_file" },
    { "client_secret", "client_secret_file" },
};

/* The state of one load: the log follows cfg->debug as layers change it. */
struct loader {
    struct pamory_config *cfg;
    struct pamory_log log;
    int errors;
    bool rejected[NOPTIONS];   /* a value was refused: do not also call it unset */
    bool no_file;              /* the file could not be read: keys may well be in it */
};

/* Problem text for a value, filled by the setters. */
#define WHY_LEN 200

/* bsearch comparator: a key name against a table row. */
static int compare_option(const void *key, const void *opt)
{
    return strcmp(key, ((const struct option *)opt)->name);
}

/* The table row for key, or NULL for an unknown key. */
static const struct option *find_option(const char *key)
{
    return bsearch(key, options, NOPTIONS, sizeof(options[0]), compare_option);
}

/* Where a row's value lives in cfg: the one place offsets are used. */
static void *field_of(struct pamory_config *cfg, const struct option *opt)
{
    return (char *)cfg + opt->offset;
}

/* Look a word up; returns 0 and sets *value, or -1 if it is not a word. */
static int find_word(const struct word *words, const char *name, int *value)
{
    for (; words->name != NULL; words++) {
        if (strcmp(words->name, name) == 0) {
            *value = words->value;
            return 0;
        }
    }
    return -1;
}

/* The config-file word for an enum value, or NULL. */
static const char *word_name(const struct word *words, int value)
{
    for (; words->name != NULL; words++) {
        if (words->value == value)
            return words->name;
    }
    return NULL;
}

/* "a, b or c", for telling the admin what would have been accepted. */
static void list_words(const struct word *words, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (; words->name != NULL && used < len; words++) {
        const char *sep = used == 0 ? "" : words[1].name == NULL ? " or " : ", ";
        int n = snprintf(buf + used, len - used, "%s%s", sep, words->name);

        if (n < 0)
            break;
        used += (size_t)n;
    }
}

/*
 * Digits only: strtoul would accept blanks, a sign (and negate "-1" into a
 * huge number) and hex, none of which belongs in a config file.
 */
static int parse_unsigned(const char *s, unsigned *out)
{
    unsigned n = 0;

    if (*s == '\0')
        return -1;
    for (; *s != '\0'; s++) {
        unsigned d = (unsigned)(*s - '0');

        if (*s < '0' || *s > '9' || n > (~0u - d) / 10)
            return -1;
        n = n * 10 + d;
    }
    *out = n;
    return 0;
}

/* Replace a string value: a later layer's value frees the earlier one. */
static int set_string(char **field, const char *value, char *why)
{
    char *copy = strdup(value);

    if (copy == NULL) {
        snprintf(why, WHY_LEN, "out of memory");
        return -1;
    }
    free(*field);
    *field = copy;
    return 0;
}

/* A number within the row's range; the range is named in the problem. */
static int set_unsigned(const struct option *opt, unsigned *field, const char *value, char *why)
{
    unsigned n;

    if (parse_unsigned(value, &n) != 0) {
        snprintf(why, WHY_LEN, "\"%s\" is not a whole number of seconds", value);
        return -1;
    }
    if (n < opt->min || n > opt->max) {
        snprintf(why, WHY_LEN, "%u is out of range (%u..%u)", n, opt->min, opt->max);
        return -1;
    }
    *field = n;
    return 0;
}

/* One of the row's words; the problem lists those that would do. */
static int set_word(const struct word *words, void *field, const char *value, char *why)
{
    char accepted[WHY_LEN / 2];
    int v;

    if (find_word(words, value, &v) != 0) {
        list_words(words, accepted, sizeof(accepted));
        snprintf(why, WHY_LEN, "\"%s\" is not one of %s", value, accepted);
        return -1;
    }
    memcpy(field, &v, sizeof(v));
    return 0;
}

/*
 * Check and store one value.  Returns 0, or -1 with the problem in why
 * (WHY_LEN bytes).  Values are quoted in problems only for types whose
 * values are never secret by nature; nothing here ever takes a secret.
 */
static int set_value(const struct option *opt, struct pamory_config *cfg,
                     const char *value, char *why)
{
    void *field = field_of(cfg, opt);
    const char *hash = strchr(value, '#');

    if (*value == '\0') {
        snprintf(why, WHY_LEN, "empty value");
        return -1;
    }
    if (hash != NULL && hash > value && (hash[-1] == ' ' || hash[-1] == '\t')) {
        snprintf(why, WHY_LEN, "comments must be on a line of their own");
        return -1;
    }
    switch (opt->type) {
    case OPT_PATH:
        if (value[0] != '/') {
            snprintf(why, WHY_LEN, "\"%s\" is not an absolute path", value);
            return -1;
        }
        break;
    case OPT_URL:
        if (!pamory_url_allowed(value)) {
            snprintf(why, WHY_LEN, "\"%s\" must be an https:// URL "
                     "(http:// only to a loopback address)", value);
            return -1;
        }
        break;
    case OPT_BOOL: {
        int v;

        if (find_word(bool_words, value, &v) != 0) {
            snprintf(why, WHY_LEN, "\"%s\" is not yes/no, true/false, on/off or 1/0", value);
            return -1;
        }
        *(bool *)field = v != 0;
        return 0;
    }
    case OPT_UNSIGNED:
        return set_unsigned(opt, field, value, why);
    case OPT_ENUM:
        return set_word(opt->words, field, value, why);
    case OPT_STRING:
        break;
    }
    return set_string(field, value, why);
}

/* An unknown key: say so, more helpfully when it looks like a secret. */
static void unknown_key(struct loader *ld, const char *src, const char *key)
{
    size_t i;

    ld->errors++;
    for (i = 0; i < sizeof(inline_secrets) / sizeof(inline_secrets[0]); i++) {
        if (strcmp(key, inline_secrets[i].key) == 0) {
            pamory_err(&ld->log, "%s: %s: secrets are not accepted in the configuration; "
                       "put it in a file readable only by root and set %s to its path",
                       src, key, inline_secrets[i].use);
            return;
        }
    }
    if (strcmp(key, "config") == 0)
        pamory_err(&ld->log, "%s: config: only valid as a module argument", src);
    else
        pamory_err(&ld->log, "%s: %s: unknown key", src, key);
}

/*
 * Apply "key = value" from one layer.  seen[] belongs to the layer: within
 * one layer a repeated key is allowed (the later one wins) but noted.
 */
static void apply(struct loader *ld, const char *src, const char *key, const char *value,
                  bool seen[NOPTIONS])
{
    const struct option *opt = find_option(key);
    char why[WHY_LEN];

    if (opt == NULL) {
        unknown_key(ld, src, key);
        return;
    }
    if (seen[opt - options])
        pamory_debug(&ld->log, "%s: %s is set again; the later value wins", src, key);
    seen[opt - options] = true;
    if (set_value(opt, ld->cfg, value, why) != 0) {
        pamory_err(&ld->log, "%s: %s: %s", src, key, why);
        ld->rejected[opt - options] = true;
        ld->errors++;
    }
}

/* Strip blanks (and the CR of a CRLF file) from both ends, in place. */
static char *trim(char *s)
{
    char *end;

    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        *--end = '\0';
    return s;
}

/*
 * Split "key = value" in place.  Returns -1 if there is no '=' or no key.
 * The line itself is never logged: a stray line may be a pasted secret.
 */
static int split(char *line, char **key, char **value)
{
    char *eq = strchr(line, '=');

    if (eq == NULL)
        return -1;
    *eq = '\0';
    *key = trim(line);
    *value = trim(eq + 1);
    return **key == '\0' ? -1 : 0;
}

/* One line of the file; src names the file and line for problems. */
static void parse_line(struct loader *ld, const char *path, unsigned lineno, char *line,
                       bool seen[NOPTIONS])
{
    char src[4096 + 32];
    char *key, *value;

    line = trim(line);
    if (*line == '\0' || *line == '#')
        return;
    snprintf(src, sizeof(src), "%s line %u", path, lineno);
    if (split(line, &key, &value) != 0) {
        pamory_err(&ld->log, "%s: expected \"key = value\"", src);
        ld->errors++;
        return;
    }
    apply(ld, src, key, value, seen);
}

/* The file layer.  A missing default file is fine; any other problem is not. */
static void load_file(struct loader *ld, const char *path, bool missing_ok)
{
    bool seen[NOPTIONS] = { false };
    unsigned lineno = 0;
    char *text, *line, *next;
    int r;

    r = pamory_read_file(&ld->log, path, PAMORY_FILE_POLICY, missing_ok, &text, NULL);
    if (r == 1) {
        pamory_debug(&ld->log, "%s does not exist; using module arguments only", path);
        return;
    }
    if (r != 0) {
        ld->no_file = true;
        ld->errors++;
        return;
    }
    for (line = text; line != NULL; line = next) {
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        parse_line(ld, path, ++lineno, line, seen);
    }
    free(text);
}

/*
 * A bare word names a yes/no key and means yes ("debug", "use_first_pass"),
 * as PAM modules' flags traditionally do; config= was taken by prescan.
 */
static void parse_arg(struct loader *ld, const char *arg, bool seen[NOPTIONS])
{
    const struct option *flag = strchr(arg, '=') == NULL ? find_option(arg) : NULL;
    char *copy, *key, *value;

    if (flag != NULL && flag->type == OPT_BOOL) {
        apply(ld, "module argument", arg, "yes", seen);
        return;
    }
    copy = strdup(arg);
    if (copy == NULL) {
        pamory_err(&ld->log, "module argument: out of memory");
        ld->errors++;
        return;
    }
    if (split(copy, &key, &value) != 0) {
        pamory_err(&ld->log, "module argument \"%s\": expected key=value", arg);
        ld->errors++;
    } else if (strcmp(key, "config") != 0) {
        apply(ld, "module argument", key, value, seen);
    }
    free(copy);
}

/* The argument layer: last, so that /etc/pam.d can override the shared file. */
static void load_args(struct loader *ld, int argc, const char **argv)
{
    bool seen[NOPTIONS] = { false };
    int i;

    for (i = 0; i < argc; i++) {
        if (argv[i] != NULL)
            parse_arg(ld, argv[i], seen);
    }
}

/*
 * Find config= (the last one wins) before reading any file, and turn on
 * debug early so that the file layer can already log at debug level.
 * Returns the path to read, or NULL after logging if config= is unusable.
 */
static const char *prescan(struct loader *ld, int argc, const char **argv, bool *explicit)
{
    const char *path = PAMORY_CONFIG_FILE;
    int i, v;

    *explicit = false;
    for (i = 0; i < argc; i++) {
        const char *arg = argv[i];

        if (arg == NULL)
            continue;
        if (strcmp(arg, "debug") == 0)
            ld->cfg->debug = true;
        else if (strncmp(arg, "debug=", 6) == 0 && find_word(bool_words, arg + 6, &v) == 0)
            ld->cfg->debug = v != 0;
        else if (strncmp(arg, "config=", 7) == 0) {
            if (*explicit)
                pamory_debug(&ld->log, "module argument: config is set again; "
                             "the later value wins");
            path = arg + 7;
            *explicit = true;
        }
        ld->log.debug = ld->cfg->debug;
    }
    if (path[0] != '/') {
        pamory_err(&ld->log, "module argument: config: \"%s\" is not an absolute path", path);
        ld->no_file = true;
        ld->errors++;
        return NULL;
    }
    return path;
}

/*
 * Is the key unset and not already reported?  A refused value leaves the key
 * unset; saying "not set" on top of the refusal would only mislead.
 */
static bool unset(const struct loader *ld, const char *key)
{
    const struct option *opt = find_option(key);

    if (opt == NULL)   /* cannot happen: the callers pass literal keys */
        return true;
    return *(char *const *)field_of(ld->cfg, opt) == NULL && !ld->rejected[opt - options];
}

/*
 * Everything the file and arguments cannot catch one value at a time.  Not
 * run when the file could not be read: its refusal is the one problem then.
 */
static void check_whole(struct loader *ld)
{
    const struct pamory_config *cfg = ld->cfg;
    const char *src = cfg->config_file != NULL ? cfg->config_file : PAMORY_CONFIG_FILE;
    const char *method = word_name(auth_words, (int)cfg->client_auth_method);
    bool secret_given = cfg->client_secret_file != NULL;

    if (unset(ld, "issuer")) {
        pamory_err(&ld->log, "%s and module arguments: issuer: required but not set", src);
        ld->errors++;
    }
    if (unset(ld, "client_id")) {
        pamory_err(&ld->log, "%s and module arguments: client_id: required but not set", src);
        ld->errors++;
    }
    if ((cfg->client_auth_method == PAMORY_CLIENT_AUTH_BASIC ||
         cfg->client_auth_method == PAMORY_CLIENT_AUTH_POST) && unset(ld, "client_secret_file")) {
        pamory_err(&ld->log, "%s and module arguments: client_auth_method: %s needs "
                   "client_secret_file", src, method);
        ld->errors++;
    }
    if (cfg->client_auth_method == PAMORY_CLIENT_AUTH_NONE && secret_given) {
        pamory_err(&ld->log, "%s and module arguments: client_auth_method: none contradicts "
                   "client_secret_file (a public client has no secret); remove one of them", src);
        ld->errors++;
    }
    /* Without openid there is no ID token, and without one nobody can log in. */
    if (cfg->scope != NULL && !pamory_word_in(cfg->scope, "openid", 6)) {
        pamory_err(&ld->log, "%s and module arguments: scope: \"%s\" must include openid", src, cfg->scope);
        ld->errors++;
    }
}

void pamory_config_each(const struct pamory_config *cfg,
                        void (*fn)(void *arg, const char *key, const char *value), void *arg)
{
    size_t i;

    for (i = 0; i < NOPTIONS; i++) {
        const struct option *opt = &options[i];
        const void *field = field_of((struct pamory_config *)cfg, opt);
        const char *shown = NULL;
        char num[16];
        int v;

        switch (opt->type) {
        case OPT_STRING:
        case OPT_PATH:
        case OPT_URL:
            shown = *(char *const *)field;
            break;
        case OPT_BOOL:
            shown = *(const bool *)field ? "yes" : "no";
            break;
        case OPT_UNSIGNED:
            snprintf(num, sizeof(num), "%u", *(const unsigned *)field);
            shown = num;
            break;
        case OPT_ENUM:
            memcpy(&v, field, sizeof(v));
            shown = word_name(opt->words, v);
            break;
        }
        fn(arg, opt->name, shown != NULL ? shown : "(not set)");
    }
}

static void log_key(void *arg, const char *key, const char *value)
{
    pamory_debug(arg, "config: %s = %s", key, value);
}

/* With debug on, one line per key: the effective value after all layers. */
static void log_effective(struct loader *ld)
{
    if (!ld->log.debug)
        return;
    pamory_debug(&ld->log, "config file: %s",
                 ld->cfg->config_file != NULL ? ld->cfg->config_file : "(none)");
    pamory_config_each(ld->cfg, log_key, &ld->log);
}

/* Defaults are written as config-file words, so they pass the same checks. */
static void load_defaults(struct loader *ld)
{
    char why[WHY_LEN];
    size_t i;

    for (i = 0; i < NOPTIONS; i++) {
        if (options[i].def != NULL && set_value(&options[i], ld->cfg, options[i].def, why) != 0) {
            pamory_err(&ld->log, "built-in default: %s: %s", options[i].name, why);
            ld->errors++;
        }
    }
}

/*
 * Layers in order: defaults, file, arguments, then the whole-config checks.
 * Every layer runs even after a problem, so one run reports them all.
 */
int pamory_config_load(const struct pamory_log *log, int argc, const char **argv,
                       struct pamory_config *cfg)
{
    struct loader ld = { .cfg = cfg, .log = { .pamh = log != NULL ? log->pamh : NULL } };
    const char *path;
    bool explicit;

    memset(cfg, 0, sizeof(*cfg));
    load_defaults(&ld);
    path = prescan(&ld, argc, argv, &explicit);
    if (path != NULL) {
        cfg->config_file = strdup(path);
        if (cfg->config_file == NULL) {
            pamory_err(&ld.log, "%s: out of memory", path);
            ld.errors++;
        }
        load_file(&ld, path, !explicit);
    }
    ld.log.debug = cfg->debug;
    load_args(&ld, argc, argv);
    ld.log.debug = cfg->debug;
    if (!ld.no_file)
        check_whole(&ld);
    log_effective(&ld);
    return ld.errors == 0 ? 0 : -1;
}

/* The table knows which fields are strings, so no key can be forgotten here. */
void pamory_config_free(struct pamory_config *cfg)
{
    size_t i;

    if (cfg == NULL)
        return;
    for (i = 0; i < NOPTIONS; i++) {
        const struct option *opt = &options[i];

        if (opt->type == OPT_STRING || opt->type == OPT_PATH || opt->type == OPT_URL) {
            char **field = field_of(cfg, opt);

            free(*field);
            *field = NULL;
        }
    }
    free(cfg->config_file);
    cfg->config_file = NULL;
}

/* Names come from the same word tables the parser uses, so they cannot drift. */
const char *pamory_mode_name(enum pamory_mode mode)
{
    const char *name = word_name(mode_words, (int)mode);

    return name != NULL ? name : "unknown";
}

const char *pamory_qr_name(enum pamory_qr qr)
{
    const char *name = word_name(qr_words, (int)qr);

    return name != NULL ? name : "unknown";
}
