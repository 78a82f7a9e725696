/*
 * Small typed helpers over json-c.  A getter tells "missing" apart from "of
 * the wrong type", so that a caller can say which one in its log line.  Raw
 * JSON received from the IdP is never logged: it may hold tokens.
 */
#ifndef PAMORY_JSON_H
#define PAMORY_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

enum pamory_json_get {
    PAMORY_JSON_OK = 0,
    PAMORY_JSON_MISSING,
    PAMORY_JSON_WRONG_TYPE
};

/* Parse exactly len bytes of JSON text; NULL if it is not one valid value. */
json_object *pamory_json_parse(const char *text, size_t len);

/* Parse and require a JSON object at the top level; NULL otherwise. */
json_object *pamory_json_parse_object(const char *text, size_t len);

/* obj[key] as a string (borrowed from obj). */
enum pamory_json_get pamory_json_string(json_object *obj, const char *key, const char **out);

/* obj[key] as an integer: a JSON integer, or a JSON double with no fraction. */
enum pamory_json_get pamory_json_int64(json_object *obj, const char *key, int64_t *out);

/* obj[key] as a boolean: only the JSON literals true and false count. */
enum pamory_json_get pamory_json_bool(json_object *obj, const char *key, bool *out);

/* obj[key] as an array (borrowed). */
enum pamory_json_get pamory_json_array(json_object *obj, const char *key, json_object **out);

/* A heap copy of obj[key] as a string, or NULL if missing, wrong type or out of memory. */
char *pamory_json_strdup(json_object *obj, const char *key);

/*
 * Free obj, which the caller holds the only reference to, after overwriting
 * every string inside it.  For parsed IdP responses that held tokens: json-c
 * frees without wiping.
 */
void pamory_json_put_wiped(json_object *obj);

/* Human words for a getter result, for log lines: "missing", "not a string", ... */
const char *pamory_json_get_str(enum pamory_json_get r);

#endif
