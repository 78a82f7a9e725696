// test-api.mjs - TEST-ONLY control endpoints under /test/ (not part of Hydra's API).
//
// They let the C test harness play the user (approve/deny a user code without a browser), steer the
// server (expire codes, force slow_down, rotate the signing key), and check the module from the outside
// (request counts, and every secret issued, to prove none leaks into logs). POST bodies are
// form-encoded; every answer is JSON. User codes are matched exactly and case-sensitively.
import { recordDeviceConsent } from './consent.mjs';
import { TAMPER_MODES } from './id-token.mjs';
import { codeFromKey, storageKey } from './user-codes.mjs';
import { epochTime, readForm, sendJson } from './util.mjs';

// Thrown by the parameter parsers below; testApi() answers 400 {"error": message, ...extra}.
class BadParam extends Error {
  constructor(message, extra = {}) {
    super(message);
    this.extra = extra;
  }
}

// Optional form parameters: the fallback when absent, BadParam when malformed.
function intParam(form, name, fallback) {
  if (!form.has(name)) return fallback;
  const n = Number(form.get(name));
  if (form.get(name) === '' || !Number.isInteger(n) || n < 0) throw new BadParam(`${name} must be an integer >= 0`);
  return n;
}

function boolParam(form, name, fallback) {
  if (!form.has(name)) return fallback;
  if (!['true', 'false'].includes(form.get(name))) throw new BadParam(`${name} must be true or false`);
  return form.get(name) === 'true';
}

function jsonObjectParam(form, name) {
  if (!form.has(name)) return {};
  let value;
  try {
    value = JSON.parse(form.get(name));
  } catch {
    value = undefined;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new BadParam(`${name} must be a JSON object`);
  return value;
}

// Loads the device code for form's user_code, or answers 400/404 and returns undefined.
async function findCode(ctx, provider, form) {
  const userCode = form.get('user_code');
  if (!userCode) return sendJson(ctx, 400, { error: 'user_code is required' });
  const code = await provider.DeviceCode.findByUserCode(storageKey(userCode), { ignoreExpiration: true });
  if (!code) return sendJson(ctx, 404, { error: 'unknown user_code', user_code: userCode });
  return code;
}

// Like findCode, but the code must still be open: 410 if expired, 409 if already approved, denied,
// in a browser flow, or redeemed.
async function findOpenCode(ctx, provider, form) {
  const code = await findCode(ctx, provider, form);
  if (!code) return undefined;
  const userCode = form.get('user_code');
  if (code.isExpired) return sendJson(ctx, 410, { error: 'expired user_code', user_code: userCode });
  if (code.accountId || code.error || code.inFlight || code.consumed) {
    return sendJson(ctx, 409, { error: 'user_code already used', user_code: userCode });
  }
  return code;
}

// Parses approve's optional parameters into grant meta (state.grantMeta) and consent options:
// claims=<JSON object> (session.id_token), ext=<JSON object> (session.access_token),
// tamper=<mode>[,<mode>…], acr=, amr=<a,b>, auth_time=<unix>, remember=, remember_for=.
function parseApprovalExtras(form, now) {
  const tamper = new Set((form.get('tamper') ?? '').split(',').filter(Boolean));
  const bad = [...tamper].filter((t) => !TAMPER_MODES.has(t));
  if (bad.length) throw new BadParam(`unknown tamper mode ${bad.join(',')}`, { allowed: [...TAMPER_MODES] });
  const meta = {
    claims: jsonObjectParam(form, 'claims'),
    ext: jsonObjectParam(form, 'ext'),
    tamper,
    acr: form.get('acr') ?? '1',
    amr: form.has('amr') ? form.get('amr').split(',').filter(Boolean) : ['pwd'],
    authTime: intParam(form, 'auth_time', now),
  };
  return { meta, remember: boolParam(form, 'remember', false), rememberFor: intParam(form, 'remember_for', 0) };
}

// POST /test/approve user_code=…[&sub=alice][&scope=…][&claims={…}][&ext={…}][&tamper=…][&acr=…]
//   [&amr=a,b][&auth_time=<unix>][&remember=true|false][&remember_for=<s>]
// Does what login + consent do in the browser: a grant for `sub` with the requested scopes (or only
// those also listed in `scope`), stored on the device code so the next poll gets tokens, and the
// consent session Hydra would persist for it.
async function approve(ctx, { provider, state, consents }, form) {
  const now = epochTime();
  const extras = parseApprovalExtras(form, now);
  const code = await findOpenCode(ctx, provider, form);
  if (!code) return;

  const sub = form.get('sub') || 'alice';
  const requested = (code.params?.scope ?? '').split(' ').filter(Boolean);
  const only = form.has('scope') ? form.get('scope').split(' ').filter(Boolean) : requested;
  const granted = requested.filter((s) => only.includes(s));

  const grant = new provider.Grant({ accountId: sub, clientId: code.clientId });
  if (granted.length) grant.addOIDCScope(granted.join(' '));
  const grantId = await grant.save();
  const { meta } = extras;
  Object.assign(code, {
    accountId: sub, grantId, scope: granted.join(' '), authTime: meta.authTime, acr: meta.acr, amr: meta.amr,
  });
  await code.save();
  const grantMeta = Object.assign(state.grantMeta(grantId, now), meta);
  const consent = recordDeviceConsent(consents, {
    code, meta: grantMeta, remember: extras.remember, rememberFor: extras.rememberFor,
  });

  sendJson(ctx, 200, {
    approved: true,
    user_code: form.get('user_code'),
    sub,
    client_id: code.clientId,
    scope: granted.join(' '),
    tamper: [...meta.tamper],
    consent_request_id: consent.id,
  });
}

// POST /test/deny user_code=… - the next poll gets 403 access_denied.
async function deny(ctx, { provider }, form) {
  const code = await findOpenCode(ctx, provider, form);
  if (!code) return;
  Object.assign(code, { error: 'access_denied', errorDescription: 'The end user denied the request.' });
  await code.save();
  sendJson(ctx, 200, { denied: true, user_code: form.get('user_code'), client_id: code.clientId });
}

// POST /test/expire user_code=… - the device code's lifetime ends now. Approved: expired_token;
// never approved: authorization_pending for ever (Hydra's quirk, see hydra-quirks.mjs).
async function expire(ctx, { provider }, form) {
  const code = await findCode(ctx, provider, form);
  if (!code) return;
  code.exp = epochTime() - 1;
  await code.save();
  sendJson(ctx, 200, { expired: true, user_code: form.get('user_code'), approved: Boolean(code.accountId) });
}

// POST /test/slow-down [count=N] - the next N device-code polls (any code) answer 400 slow_down.
function slowDown(ctx, { state }, form) {
  state.slowDownLeft = intParam(form, 'count', 1);
  return sendJson(ctx, 200, { slow_down: state.slowDownLeft });
}

// POST /test/introspect-next body=<JSON text>[&count=N] - the next N requests to
// /admin/oauth2/introspect answer 200 with exactly `body` (not validated, so anything can be
// tested); clear=1 drops what is pending.
function introspectNext(ctx, { state }, form) {
  if (form.get('clear') === '1') {
    state.introspectNext = { body: undefined, left: 0 };
    return sendJson(ctx, 200, { introspect_next: 0 });
  }
  if (!form.get('body')) throw new BadParam('body is required (or clear=1)');
  state.introspectNext = { body: form.get('body'), left: intParam(form, 'count', 1) };
  return sendJson(ctx, 200, { introspect_next: state.introspectNext.left });
}

// POST /test/consent subject=…&client_id=…[&grant_scope=a b][&remember=true][&remember_for=0]
//   [&handled_at=<unix>][&requested_at=<unix>][&login_session_id=…]
// A consent session row without a device flow (and without tokens), e.g. one remembered long ago.
function consent(ctx, { consents, clients }, form) {
  const subject = form.get('subject');
  const clientId = form.get('client_id');
  if (!subject) throw new BadParam('subject is required');
  // any client a PAM host could use (the internal introspection client has no grant types)
  if (!clients.some((c) => c.client_id === clientId && c.grant_types.length)) throw new BadParam('unknown client_id');
  const handledAt = intParam(form, 'handled_at', epochTime());
  const row = consents.add({
    subject,
    clientId,
    grantScope: (form.get('grant_scope') ?? '').split(' ').filter(Boolean),
    remember: boolParam(form, 'remember', true),
    rememberFor: intParam(form, 'remember_for', 0),
    handledAt,
    requestedAt: intParam(form, 'requested_at', handledAt),
    ...(form.get('login_session_id') && { loginSessionId: form.get('login_session_id') }),
  });
  return sendJson(ctx, 200, { consent_request_id: row.id });
}

// POST /test/rotate-key [drop_old=1] - a new RSA 4096 RS256 key (new UUID kid) signs from now on.
async function rotateKey(ctx, { keyring }, form) {
  const kid = await keyring.rotate({ dropOld: form.get('drop_old') === '1' });
  sendJson(ctx, 200, { rotated: true, kid, kids: keyring.publicJwks().keys.map((k) => k.kid) });
}

// GET /test/issued - every secret handed out: client secrets, device codes, access/refresh/ID tokens
// and, separately, each ID token's signature part. The harness greps logs for them.
function issued(ctx, { state, clients }) {
  const clientSecrets = clients.map((c) => c.client_secret).filter(Boolean);
  sendJson(ctx, 200, { secrets: [...new Set([...clientSecrets, ...state.issued()])] });
}

// GET /test/codes - pending user codes (demo convenience: `scripts/demo --approve`).
function codes(ctx, { store }) {
  const now = epochTime();
  const pending = [];
  for (const p of store.payloads('DeviceCode')) {
    const userCode = codeFromKey(p.userCode);
    if (!userCode || p.accountId || p.error || p.inFlight || p.consumed || p.exp <= now) continue;
    pending.push({
      user_code: userCode, client_id: p.clientId, scope: p.params?.scope ?? '', expires_in: p.exp - now,
    });
  }
  sendJson(ctx, 200, { codes: pending });
}

const ENDPOINTS = {
  'POST /test/approve': approve,
  'POST /test/deny': deny,
  'POST /test/expire': expire,
  'POST /test/slow-down': slowDown,
  'POST /test/rotate-key': rotateKey,
  'POST /test/introspect-next': introspectNext,
  'POST /test/consent': consent,
  'GET /test/stats': (ctx, { state }) => sendJson(ctx, 200, state.stats),
  'POST /test/stats/reset': (ctx, { state }) => {
    state.resetStats();
    sendJson(ctx, 200, state.stats);
  },
  'GET /test/issued': issued,
  'GET /test/codes': codes,
};

/** deps: { provider, keyring, state, store, consents, clients } */
export function testApi(deps) {
  return async (ctx, next) => {
    if (!ctx.path.startsWith('/test/')) return next();
    const handler = ENDPOINTS[`${ctx.method} ${ctx.path}`];
    if (!handler) return sendJson(ctx, 404, { error: 'no such test endpoint', endpoints: Object.keys(ENDPOINTS) });
    const form = ctx.method === 'POST' ? (await readForm(ctx)) ?? new URLSearchParams() : undefined;
    try {
      return await handler(ctx, deps, form);
    } catch (err) {
      if (!(err instanceof BadParam)) throw err;
      return sendJson(ctx, 400, { error: err.message, ...err.extra });
    }
  };
}
