// test-api.mjs - TEST-ONLY control endpoints under /test/ (not part of Hydra's API).
//
// They let the C test harness play the user (approve/deny a user code without a browser), steer the
// server (expire codes, force slow_down, rotate the signing key), and check the module from the outside
// (request counts, and every secret issued, to prove none leaks into logs). POST bodies are
// form-encoded; every answer is JSON. User codes are matched exactly and case-sensitively.
import { TAMPER_MODES } from './id-token.mjs';
import { codeFromKey, storageKey } from './user-codes.mjs';
import { epochTime, readForm, sendJson } from './util.mjs';

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

// Parses approve's optional claims=<JSON object> and tamper=<mode>[,<mode>…]; answers 400 if invalid.
function parseApprovalExtras(ctx, form) {
  let claims = {};
  if (form.has('claims')) {
    try {
      claims = JSON.parse(form.get('claims'));
    } catch {
      claims = undefined;
    }
    if (!claims || typeof claims !== 'object' || Array.isArray(claims)) {
      return sendJson(ctx, 400, { error: 'claims must be a JSON object' });
    }
  }
  const tamper = new Set((form.get('tamper') ?? '').split(',').filter(Boolean));
  const bad = [...tamper].filter((t) => !TAMPER_MODES.has(t));
  if (bad.length) return sendJson(ctx, 400, { error: `unknown tamper mode ${bad.join(',')}`, allowed: [...TAMPER_MODES] });
  return { claims, tamper };
}

// POST /test/approve user_code=…[&sub=alice][&scope=…][&claims={…}][&tamper=…]
// Does what login + consent do in the browser: a grant for `sub` with the requested scopes (or only
// those also listed in `scope`), stored on the device code so the next poll gets tokens.
async function approve(ctx, { provider, state }, form) {
  const extras = parseApprovalExtras(ctx, form);
  if (!extras) return;
  const code = await findOpenCode(ctx, provider, form);
  if (!code) return;

  const sub = form.get('sub') || 'alice';
  const requested = (code.params?.scope ?? '').split(' ').filter(Boolean);
  const only = form.has('scope') ? form.get('scope').split(' ').filter(Boolean) : requested;
  const granted = requested.filter((s) => only.includes(s));

  const grant = new provider.Grant({ accountId: sub, clientId: code.clientId });
  if (granted.length) grant.addOIDCScope(granted.join(' '));
  const grantId = await grant.save();
  const now = epochTime();
  Object.assign(code, {
    accountId: sub, grantId, scope: granted.join(' '), authTime: now, acr: '1', amr: ['pwd'],
  });
  await code.save();
  Object.assign(state.grantMeta(grantId, now), extras);

  sendJson(ctx, 200, {
    approved: true,
    user_code: form.get('user_code'),
    sub,
    client_id: code.clientId,
    scope: granted.join(' '),
    tamper: [...extras.tamper],
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
  const count = Number(form.get('count') ?? 1);
  if (!Number.isInteger(count) || count < 0) return sendJson(ctx, 400, { error: 'count must be an integer >= 0' });
  state.slowDownLeft = count;
  return sendJson(ctx, 200, { slow_down: count });
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
  'GET /test/stats': (ctx, { state }) => sendJson(ctx, 200, state.stats),
  'POST /test/stats/reset': (ctx, { state }) => {
    state.resetStats();
    sendJson(ctx, 200, state.stats);
  },
  'GET /test/issued': issued,
  'GET /test/codes': codes,
};

/** deps: { provider, keyring, state, store, clients } */
export function testApi(deps) {
  return async (ctx, next) => {
    if (!ctx.path.startsWith('/test/')) return next();
    const handler = ENDPOINTS[`${ctx.method} ${ctx.path}`];
    if (!handler) return sendJson(ctx, 404, { error: 'no such test endpoint', endpoints: Object.keys(ENDPOINTS) });
    const form = ctx.method === 'POST' ? (await readForm(ctx)) ?? new URLSearchParams() : undefined;
    return handler(ctx, deps, form);
  };
}
