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

/* Release everything cfg owns; cfg may be partly filled. */
void pamory_config_free(struct pamory_config *cfg);

/* The words used in the config file for an enum value, for logs and tools. */
const char *pamory_mode_name(enum pamory_mode mode);
const char *pamory_qr_name(enum pamory_qr qr);

#endif
