/* Typed getters over json-c that tell "missing" from "wrong type". */
#include <math.h>
#include <string.h>

#include "json.h"

json_object *pamory_json_parse(const char *text, size_t len)
{
    json_tokener *tok;
    json_object *obj;

    if (text == NULL || len == 0 || len > (size_t)INT32_MAX)
        return NULL;
    tok = json_tokener_new();
    if (tok == NULL)
        return NULL;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    obj = json_tokener_parse_ex(tok, text, (int)len);
    /* Exactly one complete value, nothing after it. */
    if (obj != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
                        json_tokener_get_parse_end(tok) != len)) {
        json_object_put(obj);
        obj = NULL;
    }
    json_tokener_free(tok);
    return obj;
}

json_object *pamory_json_parse_object(const char *text, size_t len)
{
    json_object *obj = pamory_json_parse(text, len);

    if (obj != NULL && !json_object_is_type(obj, json_type_object)) {
        json_object_put(obj);
        return NULL;
    }
    return obj;
}

static enum pamory_json_get member(json_object *obj, const char *key, json_type type,
                                   json_object **out)
{
    if (obj == NULL || !json_object_object_get_ex(obj, key, out) || *out == NULL)
        return PAMORY_JSON_MISSING;
    return json_object_is_type(*out, type) ? PAMORY_JSON_OK : PAMORY_JSON_WRONG_TYPE;
}

enum pamory_json_get pamory_json_string(json_object *obj, const char *key, const char **out)
{
    json_object *v;
    enum pamory_json_get r = member(obj, key, json_type_string, &v);

    if (r == PAMORY_JSON_OK)
        *out = json_object_get_string(v);
    return r;
}

enum pamory_json_get pamory_json_int64(json_object *obj, const char *key, int64_t *out)
{
    json_object *v;
    double d;

    if (member(obj, key, json_type_int, &v) == PAMORY_JSON_OK) {
        *out = json_object_get_int64(v);
        return PAMORY_JSON_OK;
    }
    if (obj == NULL || !json_object_object_get_ex(obj, key, &v) || v == NULL)
        return PAMORY_JSON_MISSING;
    if (!json_object_is_type(v, json_type_double))
        return PAMORY_JSON_WRONG_TYPE;
    d = json_object_get_double(v);
    /* Some servers write whole numbers as 1.7e9; accept them, refuse fractions and huge values. */
    if (!isfinite(d) || d != floor(d) || fabs(d) > 9.0e15)
        return PAMORY_JSON_WRONG_TYPE;
    *out = (int64_t)d;
    return PAMORY_JSON_OK;
}

enum pamory_json_get pamory_json_bool(json_object *obj, const char *key, bool *out)
{
    json_object *v;
    enum pamory_json_get r = member(obj, key, json_type_boolean, &v);

    if (r == PAMORY_JSON_OK)
        *out = json_object_get_boolean(v);
    return r;
}

enum pamory_json_get pamory_json_array(json_object *obj, const char *key, json_object **out)
{
    return member(obj, key, json_type_array, out);
}

char *pamory_json_strdup(json_object *obj, const char *key)
{
    const char *s;

    if (pamory_json_string(obj, key, &s) != PAMORY_JSON_OK)
        return NULL;
    return strdup(s);
}

/* Overwrite the strings of obj and everything below it, in place. */
static void wipe_strings(json_object *obj)
{
    size_t i, n;

    switch (json_object_get_type(obj)) {
    case json_type_string:
        /* json-c owns this buffer; it is writable, only typed const. */
        explicit_bzero((char *)json_object_get_string(obj), (size_t)json_object_get_string_len(obj));
        break;
    case json_type_object: {
        json_object_object_foreach(obj, key, value) {
            (void)key;
            wipe_strings(value);
        }
        break;
    }
    case json_type_array:
        n = json_object_array_length(obj);
        for (i = 0; i < n; i++)
            wipe_strings(json_object_array_get_idx(obj, i));
        break;
    default:
        break;
    }
}

void pamory_json_put_wiped(json_object *obj)
{
    if (obj != NULL) {
        wipe_strings(obj);
        json_object_put(obj);
    }
}

const char *pamory_json_get_str(enum pamory_json_get r)
{
    switch (r) {
    case PAMORY_JSON_OK:
        return "ok";
    case PAMORY_JSON_MISSING:
        return "missing";
    case PAMORY_JSON_WRONG_TYPE:
        return "of the wrong type";
    }
    return "invalid";
}
