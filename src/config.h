/*
 * pam_ory configuration: one table of keys, read from a "key = value" file
 * (default /etc/security/pam_ory.conf, or the module argument config=PATH)
 * and then from "key=value" module arguments, which win over the file.
 * A bare "debug" argument turns on debug logging.
 *
 * Parsing is strict: an unknown key, a bad value or a missing required key is
 * a configuration error (the module returns PAM_SERVICE_ERR).  Secrets are
 * never configuration values; only the paths of root-owned files holding them.
 */
#ifndef PAMORY_CONFIG_H
#define PAMORY_CONFIG_H

#include <stdbool.h>
#include "log.h"

#define PAMORY_CONFIG_FILE "/etc/security/pam_ory.conf"
#define PAMORY_CACHE_DIR "/var/cache/pam_ory"

enum pamory_mode {
    PAMORY_MODE_DEVICE,   /* RFC 8628 device authorization grant */
    PAMORY_MODE_TOKEN,    /* the password is a token (not built yet) */
    PAMORY_MODE_CONSENT   /* sudo by Hydra consent session (not built yet) */
};

enum pamory_qr {
    PAMORY_QR_AUTO,   /* see pamory_qr_resolve() in flow/prompt.h */
    PAMORY_QR_UTF8,
    PAMORY_QR_ASCII,
    PAMORY_QR_OFF
};

enum pamory_client_auth {
    PAMORY_CLIENT_AUTH_DEFAULT,  /* none without a secret file, else client_secret_basic */
    PAMORY_CLIENT_AUTH_NONE,
    PAMORY_CLIENT_AUTH_BASIC,
    PAMORY_CLIENT_AUTH_POST
};

struct pamory_config {
    char *issuer;              /* required; exact issuer, e.g. https://auth.example.com/ */
    char *client_id;           /* required */
    char *client_secret_file;  /* confidential clients only */
    enum pamory_client_auth client_auth_method;
    char *scope;               /* default "openid" */
    char *username_claim;      /* default "sub" */
    char *map_file;            /* "<claim value> <local user>" lines */
    char *admin_url;           /* Hydra admin API base (later issues) */
    char *admin_token_file;    /* Ory Network API key file (later issues) */
    enum pamory_mode mode;     /* default device */
    enum pamory_qr qr;         /* default auto */
    unsigned timeout;          /* seconds for the whole flow; default 110 */
    char *ca_file;             /* PEM bundle for a private CA */
    char *cache_dir;           /* default PAMORY_CACHE_DIR */
    bool allow_root;           /* default no */
    bool debug;                /* default no */
    /* token checks */
    char *required_scope;      /* scopes the token must carry (token mode, introspection, step-up) */
    char *allowed_clients;     /* client ids whose tokens count (token mode, introspection) */
    bool introspect;           /* device mode: also introspect the fresh access token */
    unsigned jwks_max_stale;   /* seconds a cached JWKS/discovery may stand in; default 86400 */
    unsigned max_auth_age;     /* seconds since auth_time; 0 = no check */
    char *required_acr;        /* acceptable acr values; unset = no check */
    bool use_first_pass;       /* token mode: take PAM_AUTHTOK from an earlier module */
    /* consent mode */
    char *consent_client;      /* default: client_id */
    char *consent_scope;       /* default "sudo" */
    unsigned consent_max_age;  /* seconds since the consent was given; 0 = no check */
    char *config_file;         /* the file that was read (or attempted) */
};

/*
 * Fill cfg from defaults, the config file and argv.  Returns 0, or -1 after
 * logging one line per problem, each naming the key or line and what is wrong.
 * A missing default config file is not an error (arguments alone may suffice);
 * a missing file named by config= is.  cfg must be released with
 * pamory_config_free() in both cases.
 */
int pamory_config_load(const struct pamory_log *log, int argc, const char **argv,
                       struct pamory_config *cfg);

/*
 * Call fn once per key, in key order, with the effective value as it would
 * be written in the config file ("(not set)" for an unset one).  There are
 * no secrets in a configuration, so nothing needs masking.
 */
void pamory_config_each(const struct pamory_config *cfg,
                        void (*fn)(void *arg, const char *key, const char *value), void *arg);

/* Release everything cfg owns; cfg may be partly filled. */
void pamory_config_free(struct pamory_config *cfg);

/* The words used in the config file for an enum value, for logs and tools. */
const char *pamory_mode_name(enum pamory_mode mode);
const char *pamory_qr_name(enum pamory_qr qr);

#endif
