// admin-api.mjs - the parts of Hydra's admin API (/admin/*) that oidc-provider has no counterpart
// for: Ory-Network-style bearer authentication, and the consent session endpoints (hydra-api.md §5).
// (/admin/oauth2/introspect itself is oidc-provider's, reshaped in hydra-quirks.mjs.)
import { oauthError } from './hydra-quirks.mjs';
import { sendJson } from './util.mjs';

export const CONSENT_SESSIONS = '/admin/oauth2/auth/sessions/consent';

const MAX_PAGE_SIZE = 500; // Hydra's default is 100 (the spec says 250); CONSENT_PAGE_SIZE overrides it

// ADMIN_TOKEN (Ory Network): every /admin/* request must carry exactly `Bearer <token>`, else 401
// in herodot's shape (hydra-api.md §7). Unset: no authentication at all, like self-hosted Hydra,
// whose admin port is protected only by the network.
export function adminAuth(adminToken) {
  return (ctx, next) => {
    if (!adminToken || !ctx.path.startsWith('/admin/')) return next();
    if (ctx.headers.authorization === `Bearer ${adminToken}`) return next();
    return sendJson(ctx, 401, { error: 'The request could not be authorized', error_description: '' });
  };
}

// Go's url.Values.Encode(): keys sorted, values QueryEscape'd (space as "+", !'()* escaped).
function goQueryEncode(params) {
  const esc = (s) => encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%20/g, '+');
  return [...params.keys()].filter((k, i, all) => all.indexOf(k) === i).sort()
    .flatMap((k) => params.getAll(k).map((v) => `${esc(k)}=${esc(v)}`)).join('&');
}

// Hydra's Link header (keysetpagination SetLinkHeader): the request URL with page_token and
// page_size replaced, rel="first" always, rel="next" unless this is the last page. Hydra builds it
// from r.URL, which on a server is path-relative ("/admin/...?..."), so that is what we send;
// ABSOLUTE_LINKS=1 prefixes the origin instead (what a client sees behind a rewriting proxy).
function linkHeader(ctx, { consents, linkBase }, size, page) {
  const part = (rel, token) => {
    const q = new URLSearchParams(ctx.querystring);
    q.set('page_token', token);
    q.set('page_size', String(size));
    return `<${linkBase}${ctx.path}?${goQueryEncode(q)}>; rel="${rel}"`;
  };
  const links = [part('first', consents.pageToken(0))];
  if (!page.last) links.push(part('next', consents.pageToken(page.lastSeq)));
  return links.join(',');
}

// page_size as Hydra's paginator reads it: empty -> default, not an integer -> error (undefined),
// <= 0 -> default, above the maximum -> the maximum.
function pageSize(raw, defaultSize) {
  if (!raw) return defaultSize;
  if (!/^[+-]?\d+$/.test(raw)) return undefined;
  const n = Number(raw);
  return n <= 0 ? defaultSize : Math.min(n, MAX_PAGE_SIZE);
}

// GET /admin/oauth2/auth/sessions/consent?subject=S[&login_session_id=][&page_size=][&page_token=]
function listConsents(ctx, deps) {
  const q = new URLSearchParams(ctx.querystring);
  const subject = q.get('subject');
  if (!subject) {
    return oauthError(ctx, 'invalid_request', "Query parameter 'subject' is not defined but should have been.");
  }
  const size = pageSize(q.get('page_size'), deps.defaultPageSize);
  const after = q.get('page_token') ? deps.consents.parsePageToken(q.get('page_token')) : 0;
  if (size === undefined || after === undefined) {
    return oauthError(ctx, 'invalid_request', 'Unable to parse pagination parameters: invalid pagination token.');
  }
  const page = deps.consents.page({
    subject, loginSessionId: q.get('login_session_id'), after, size,
  });
  // No rows: Hydra answers [] from a short-cut path that sets no Link header.
  if (page.rows.length) ctx.set('Link', linkHeader(ctx, deps, size, page));
  return sendJson(ctx, 200, page.rows.map((r) => deps.consents.toHydra(r)));
}

// DELETE's accepted parameter combinations (consent/handler.go revokeOAuth2ConsentSessions):
// consent_request_id alone (`all` ignored), subject+client without all=true, or subject+all=true
// without client. Returns the selection, or undefined for any other combination.
function revokeSelection(q) {
  const [id, subject, clientId] = ['consent_request_id', 'subject', 'client'].map((k) => q.get(k) ?? '');
  const all = q.get('all') === 'true';
  if (id && !subject && !clientId) return { id };
  if (!id && subject && clientId && !all) return { subject, clientId };
  if (!id && subject && !clientId && all) return { subject };
  return undefined;
}

// DELETE /admin/oauth2/auth/sessions/consent: 204 even if nothing matched. Like Hydra (token rows
// cascade-delete with their flow), the tokens issued under the consent die with it.
async function revokeConsents(ctx, { consents, store }) {
  const selection = revokeSelection(new URLSearchParams(ctx.querystring));
  if (!selection) return oauthError(ctx, 'invalid_request', 'Invalid combination of query parameters.');
  const rows = consents.matching(selection);
  consents.remove(rows);
  for (const grantId of new Set(rows.flatMap((r) => r.grantIds))) await store.revokeGrant(grantId);
  ctx.status = 204;
  ctx.body = null;
  return undefined;
}

/**
 * deps: { consents (ConsentSessions), store (MemoryStore), linkBase ('' or the origin),
 *         defaultPageSize (100 in Hydra; CONSENT_PAGE_SIZE, so that a module which sends no
 *         page_size can be tested across pages) }
 */
export function consentAdmin(deps) {
  return (ctx, next) => {
    if (ctx.path !== CONSENT_SESSIONS) return next();
    if (ctx.method === 'GET') return listConsents(ctx, deps);
    if (ctx.method === 'DELETE') return revokeConsents(ctx, deps);
    return next();
  };
}
