// consent.mjs - Hydra's consent sessions (hydra-api.md §5), kept in memory.
//
// Hydra persists a consent session (a "flow" row) when the user accepts the consent of a device
// flow (§1.7 step 5). Here a row is recorded for every approved device flow - /test/approve or the
// browser - and points at the oidc-provider grant it produced, so revoking the consent can revoke
// exactly the tokens issued under it. POST /test/consent adds rows without a device flow.
// The admin endpoints that read and delete rows are in admin-api.mjs.
import {
  createHmac, randomBytes, randomUUID, timingSafeEqual,
} from 'node:crypto';
import { b64url, epochTime } from './util.mjs';

const PAGE_TOKEN_TTL = 3600; // Hydra's page tokens expire after 1 h (keysetpagination page_token.go)

const words = (s) => (s ?? '').split(' ').filter(Boolean);
const rfc3339 = (unix) => new Date(unix * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

// The client as Hydra embeds it in consent_request.client: its public metadata, never the secret.
function hydraClient(c) {
  return {
    client_id: c.client_id,
    client_name: c.client_name ?? '',
    redirect_uris: c.redirect_uris ?? [],
    grant_types: c.grant_types ?? [],
    response_types: c.response_types ?? [],
    scope: c.scope ?? '',
    audience: [],
    owner: '',
    subject_type: 'public',
    token_endpoint_auth_method: c.token_endpoint_auth_method,
    ...(c.access_token_strategy && { access_token_strategy: c.access_token_strategy }),
    metadata: {},
    skip_consent: false,
  };
}

export class ConsentSessions {
  #rows = new Map(); // seq -> row. Insertion order is seq order: Hydra's stable keyset order

  #seq = 0;

  #pageKey = randomBytes(32);

  constructor({ issuer, clients }) {
    this.issuer = issuer;
    this.clients = new Map(clients.map((c) => [c.client_id, c]));
  }

  /**
   * Records a granted consent. Required: subject, clientId, grantScope (array), handledAt and
   * requestedAt (unix seconds). Optional: requestedScope, remember, rememberFor, ext, idTokenClaims,
   * loginSessionId, acr, amr, grantIds (oidc-provider grants whose tokens die with the consent).
   */
  add(fields) {
    const row = {
      requestedScope: fields.grantScope,
      remember: false,
      rememberFor: 0,
      ext: {},
      idTokenClaims: {},
      loginSessionId: randomUUID(),
      acr: '1',
      amr: ['pwd'],
      grantIds: [],
      ...fields,
      seq: this.#seq += 1,
      id: randomUUID(),
      loginChallenge: randomBytes(16).toString('hex'),
    };
    this.#rows.set(row.seq, row);
    return row;
  }

  // Hydra's list query: the subject's rows (optionally of one login session) whose generated
  // expires_at (requested_at + remember_for, only when remember_for > 0) has not passed. `remember`
  // is not filtered: remember_for = 0 means listed for ever.
  #visible(subject, loginSessionId, now) {
    return [...this.#rows.values()].filter((r) => r.subject === subject
      && (!loginSessionId || r.loginSessionId === loginSessionId)
      && !(r.rememberFor > 0 && r.requestedAt + r.rememberFor <= now));
  }

  // One keyset page: rows after the seq in the page token; `last` is false when more follow.
  page({
    subject, loginSessionId, after, size,
  }) {
    const rows = this.#visible(subject, loginSessionId, epochTime()).filter((r) => r.seq > after);
    const page = rows.slice(0, size);
    return { rows: page, last: rows.length <= size, lastSeq: page.at(-1)?.seq };
  }

  // DELETE's selections (§5.4): one consent by id, or a subject's consents (for one client).
  matching({ id, subject, clientId }) {
    return [...this.#rows.values()].filter((r) => (id ? r.id === id
      : r.subject === subject && (!clientId || r.clientId === clientId)));
  }

  remove(rows) {
    for (const r of rows) this.#rows.delete(r.seq);
  }

  // Opaque page token: base64url({after, iat}) + "." + HMAC. Hydra's are encrypted; ours need only
  // be unforgeable. pageToken(0) is the "first" token.
  pageToken(after) {
    const body = b64url(JSON.stringify({ after, iat: epochTime() }));
    return `${body}.${this.#mac(body)}`;
  }

  // The seq a token continues after, or undefined if it is forged, malformed or older than 1 h.
  parsePageToken(token) {
    const [body, mac, extra] = String(token).split('.');
    if (!body || !mac || extra !== undefined) return undefined;
    const want = Buffer.from(this.#mac(body));
    if (want.length !== Buffer.from(mac).length || !timingSafeEqual(want, Buffer.from(mac))) return undefined;
    const { after, iat } = JSON.parse(Buffer.from(body, 'base64url').toString());
    return Number.isInteger(after) && iat + PAGE_TOKEN_TTL > epochTime() ? after : undefined;
  }

  #mac(body) {
    return createHmac('sha256', this.#pageKey).update(body).digest('base64url');
  }

  // A row in the list API's shape (flow.ToListConsentSessionResponse): no expires_at, challenge "",
  // audiences always arrays, consent_request.context omitted because empty.
  toHydra(r) {
    return {
      consent_request_id: r.id,
      grant_scope: r.grantScope,
      grant_access_token_audience: [],
      session: { access_token: r.ext, id_token: r.idTokenClaims },
      remember: r.remember,
      remember_for: r.rememberFor,
      handled_at: rfc3339(r.handledAt),
      context: {},
      consent_request: {
        challenge: '',
        consent_request_id: r.id,
        requested_scope: r.requestedScope,
        requested_access_token_audience: [],
        skip: false,
        subject: r.subject,
        oidc_context: {},
        client: hydraClient(this.clients.get(r.clientId) ?? { client_id: r.clientId }),
        request_url: `${this.issuer}oauth2/device/verify?client_id=${encodeURIComponent(r.clientId)}`,
        login_challenge: r.loginChallenge,
        login_session_id: r.loginSessionId,
        acr: r.acr,
        amr: r.amr,
      },
    };
  }
}

/**
 * The consent row of an approved device code (from /test/approve or the browser). `meta` is the
 * grant's state.grantMeta: its sid is the login session id, and acr/amr/ext/claims flow into the row.
 */
export function recordDeviceConsent(consents, {
  code, meta, remember = false, rememberFor = 0,
}) {
  return consents.add({
    subject: code.accountId,
    clientId: code.clientId,
    grantScope: words(code.scope),
    requestedScope: words(code.params?.scope),
    requestedAt: code.iat, // when the device flow started (Hydra: requested_at of the flow)
    handledAt: epochTime(),
    remember,
    rememberFor,
    ext: meta.ext,
    idTokenClaims: meta.claims,
    loginSessionId: meta.sid,
    acr: meta.acr,
    amr: meta.amr,
    grantIds: [code.grantId],
  });
}
