/*
 * URLs: which ones pam_ory may contact, and building them.  Kept apart from
 * http.c so that code which only builds or checks URLs does not drag the
 * transport in.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>

#include "url.h"

/* Is host (as libcurl returns it, IPv6 in brackets) a loopback address? */
static int host_is_loopback(const char *host)
{
    struct in_addr v4;

    if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0)
        return 1;
    return inet_pton(AF_INET, host, &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

int pamory_url_allowed(const char *url)
{
    CURLU *u;
    char *scheme = NULL, *host = NULL;
    int ok = 0;

    if (url == NULL || (u = curl_url()) == NULL)
        return 0;
    /* Only absolute http(s) URLs, parsed the way libcurl itself will parse them. */
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        if (strcmp(scheme, "https") == 0)
            ok = 1;
        else if (strcmp(scheme, "http") == 0)
            ok = host_is_loopback(host);
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

char *pamory_url_join(const char *base, const char *path)
{
    size_t n = strlen(base);
    char *url = NULL;

    while (n > 0 && base[n - 1] == '/')
        n--;
    if (asprintf(&url, "%.*s%s", (int)n, base, path) < 0)
        return NULL;
    return url;
}

char *pamory_url_escape(const char *s)
{
    CURL *curl = curl_easy_init();
    char *escaped = curl != NULL ? curl_easy_escape(curl, s, 0) : NULL;
    char *copy = escaped != NULL ? strdup(escaped) : NULL;

    curl_free(escaped);
    curl_easy_cleanup(curl);
    return copy;
}

size_t pamory_url_origin_len(const char *url)
{
    const char *authority = strstr(url, "://");

    if (authority == NULL)
        return 0;
    authority += 3;
    return (size_t)(authority - url) + strcspn(authority, "/?#");
}
