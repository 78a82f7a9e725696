// hydra-quirks.mjs - koa middlewares that make oidc-provider answer like Ory Hydra.
//
// Each section below reproduces one Hydra behaviour (README.md lists them). The middlewares run in
// front of oidc-provider's router (provider.use) and either rewrite the request before oidc-provider
// sees it, or its response afterwards.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { JwtAccessTokens } from './access-token-jwt.mjs';
import { hydraIdToken } from './id-token.mjs';
import { generateUserCode, keyForSubmittedCode, storageKey } from './user-codes.mjs';
import {
  basicClientId, passFormOn, readForm, sendJson,
} from './util.mjs';

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

// Hydra's URL layout. Hydra serves /admin/* on a second port (4445); here everything shares one.
export const ROUTES = {
  authorization: '/oauth2/auth',
  token: '/oauth2/token',
  device_authorization: '/oauth2/device/auth',
  code_verification: '/oauth2/device/verify',
  jwks: '/.well-known/jwks.json',
  introspection: '/admin/oauth2/introspect',
  revocation: '/oauth2/revoke',
  userinfo: '/userinfo',
  end_session: '/oauth2/sessions/logout',
};
const DISCOVERY_PATHS = ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'];

// Runs `handler` only for the given method(s) and path(s).
function on(methods, paths, handler) {
  const m = [methods].flat();
  const p = [paths].flat();
  return (ctx, next) => (m.includes(ctx.method) && p.includes(ctx.path) ? handler(ctx, next) : next());
}

// ---------------------------------------------------------------------------------------------------
// Error responses (hydra-api.md §7): only {"error","error_description"}; the description is fosite's
// fixed text for the error, with the specific reason (the "hint") appended after a space. Statuses
// follow fosite, e.g. access_denied is 403 where oidc-provider says 400.
const HYDRA_ERRORS = {
  invalid_request: [400, 'The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.'],
  invalid_client: [401, 'Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method).'],
  invalid_grant: [400, 'The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.'],
  unauthorized_client: [400, 'The client is not authorized to request a token using this method.'],
  unsupported_grant_type: [400, 'The authorization grant type is not supported by the authorization server.'],
  invalid_scope: [400, 'The requested scope is invalid, unknown, or malformed.'],
  access_denied: [403, 'The resource owner or authorization server denied the request.'],
  authorization_pending: [400, "The authorization request is still pending as the end user hasn't yet completed the user-interaction steps."],
  slow_down: [400, "The authorization request was rate-limited to prevent system overload. Ensure that you don't call the token endpoint sooner than the polling interval"],
  expired_token: [400, 'The device_code has expired, and the device authorization session has concluded.'],
  server_error: [500, 'The authorization server encountered an unexpected condition that prevented it from fulfilling the request.'],
};
// For these the fixed text says it all; oidc-provider's wording would only repeat it.
const NO_HINT = new Set(['authorization_pending', 'slow_down', 'expired_token', 'access_denied']);

export function oauthError(ctx, error, hint) {
  const [status, description] = HYDRA_ERRORS[error] ?? [ctx.status >= 400 ? ctx.status : 400];
  const text = [description, hint].filter(Boolean).join(' ');
  sendJson(ctx, status, { error, error_description: text }, { noStore: true });
}

// oidc-provider's lower-case reason -> a Hydra-style hint sentence (Hydra swaps " for ').
function asHint(reason) {
  if (!reason) return undefined;
  const s = reason.replace(/"/g, "'");
  return `${s[0].toUpperCase()}${s.slice(1)}${/[.!?]$/.test(s) ? '' : '.'}`;
}

const isObject = (v) => v !== null && typeof v === 'object' && !Buffer.isBuffer(v) && typeof v.pipe !== 'function';

// Outermost wrapper of the OAuth endpoints: rewrites oidc-provider's errors into Hydra's and gives
// every JSON answer Hydra's headers (application/json;charset=UTF-8, Cache-Control: no-store).
async function hydraResponses(ctx, next) {
  await next();
  if (!isObject(ctx.body)) return;
  const { error, error_description: reason } = ctx.body;
  if (error) oauthError(ctx, error, NO_HINT.has(error) ? undefined : asHint(reason));
  else sendJson(ctx, ctx.status, ctx.body, { noStore: true });
}

// ---------------------------------------------------------------------------------------------------
// Opaque token format: Hydra's access/refresh tokens and device codes look like
// `ory_at_<key>.<signature>`, `ory_rt_…`, `ory_dc_…` (HMAC tokens with a prefix). oidc-provider's are
// bare random ids. We wrap them on the way out (id + "." + HMAC of it) and unwrap them on the way in,
// so the module sees Hydra-shaped values and must treat them as opaque. A value whose HMAC does not
// match is passed on unchanged, and oidc-provider then doesn't know it. Values that are not ory_*
// tokens go to the JWT access tokens (access-token-jwt.mjs), which map theirs back the same way.
class OpaqueTokens {
  #secret = randomBytes(32);

  constructor(jwtAccessTokens) {
    this.jwt = jwtAccessTokens;
  }

  #mac(kind, id) {
    return createHmac('sha256', this.#secret).update(`${kind}:${id}`).digest('base64url');
  }

  wrap(kind, id) {
    return `ory_${kind}_${id}.${this.#mac(kind, id)}`;
  }

  unwrap(value) {
    const m = /^ory_(at|rt|dc)_([\w-]+)\.([\w-]+)$/.exec(value ?? '');
    if (!m) return this.jwt.unwrap(value);
    const expected = Buffer.from(this.#mac(m[1], m[2]));
    const got = Buffer.from(m[3]);
    return got.length === expected.length && timingSafeEqual(got, expected) ? m[2] : value;
  }

  unwrapFields(form, names) {
    for (const name of names) if (form.has(name)) form.set(name, this.unwrap(form.get(name)));
  }
}

// ---------------------------------------------------------------------------------------------------
// Discovery (hydra-api.md §4, §9.1): Hydra's field set. Notably no introspection_endpoint (Hydra's is
// admin-only), and id_token_signing_alg_values_supported lists the algorithms actually in use.
function discovery({
  issuer, keyring, scopes, discoveryMaxAge,
}) {
  const url = (path) => new URL(path.slice(1), issuer).href; // issuer ends in "/"
  return (ctx) => {
    const algs = keyring.algs();
    cacheFor(ctx, discoveryMaxAge);
    sendJson(ctx, 200, {
      issuer,
      authorization_endpoint: url(ROUTES.authorization),
      device_authorization_endpoint: url(ROUTES.device_authorization),
      token_endpoint: url(ROUTES.token),
      jwks_uri: url(ROUTES.jwks),
      userinfo_endpoint: url(ROUTES.userinfo),
      revocation_endpoint: url(ROUTES.revocation),
      end_session_endpoint: url(ROUTES.end_session),
      id_token_signing_alg_values_supported: algs,
      id_token_signed_response_alg: algs,
      userinfo_signed_response_alg: algs,
      subject_types_supported: ['public'],
      grant_types_supported: ['authorization_code', 'implicit', 'client_credentials', 'refresh_token', DEVICE_GRANT],
      token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic', 'private_key_jwt', 'none'],
      scopes_supported: ['offline_access', 'offline', 'openid', ...scopes.filter((s) => !['offline_access', 'offline', 'openid'].includes(s))],
      response_types_supported: ['code'],
      response_modes_supported: ['query', 'fragment', 'form_post'],
      claims_supported: ['sub'],
      code_challenge_methods_supported: ['plain', 'S256'],
      request_parameter_supported: true,
      request_uri_parameter_supported: true,
      require_request_uri_registration: true,
      frontchannel_logout_supported: true,
      frontchannel_logout_session_supported: true,
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
    });
  };
}

// JWKS (hydra-api.md §3.1): public keys only, newest first, go-jose member order, served from our
// keyring so /test/rotate-key shows up at once.
const jwks = ({ keyring, jwksMaxAge }) => (ctx) => {
  cacheFor(ctx, jwksMaxAge);
  sendJson(ctx, 200, keyring.publicJwks());
};

// Self-hosted Hydra sends no caching headers on discovery or the JWKS; a CDN in front of it (as in
// Ory Network) may add some. DISCOVERY_MAX_AGE / JWKS_MAX_AGE make that testable.
function cacheFor(ctx, maxAge) {
  if (maxAge !== undefined) ctx.set('Cache-Control', `public, max-age=${maxAge}`);
}

// ---------------------------------------------------------------------------------------------------
// Device authorization (hydra-api.md §1.3):
// - client_id is required in the form body even when the client authenticates with HTTP Basic
//   (fosite: "Provided client_id mismatch.");
// - the user_code is Hydra's (see user-codes.mjs), verification_uri_complete is plain concatenation;
// - `interval` is always present (oidc-provider sends none);
// - a client without the device grant gets invalid_grant here (not unauthorized_client).
function deviceAuthorization({ provider, issuer, tokens, state, interval }) {
  const verificationUri = new URL(ROUTES.code_verification.slice(1), issuer).href;
  return async (ctx, next) => {
    const form = await readForm(ctx);
    if (!form) return next(); // not a form post: oidc-provider rejects it
    if (!ctx.state.rawBody) return oauthError(ctx, 'invalid_request', 'The POST body can not be empty.');
    const bodyClientId = form.get('client_id');
    const basicId = basicClientId(ctx.headers.authorization);
    if (!bodyClientId || (basicId !== undefined && basicId !== bodyClientId)) {
      return oauthError(ctx, 'invalid_request', 'Provided client_id mismatch.');
    }
    passFormOn(ctx, form);
    await next();

    if (ctx.body?.error === 'unauthorized_client') ctx.body.error = 'invalid_grant';
    if (ctx.status !== 200 || !ctx.body?.device_code) return;
    // oidc-provider silently drops scopes the client may not ask for; Hydra refuses the request.
    // Checked only now so that client authentication errors keep precedence, as in Hydra.
    const allowed = new Set(ctx.oidc.client.scope?.split(' '));
    const refused = (form.get('scope') ?? '').split(' ').find((s) => s && !allowed.has(s));
    if (refused) {
      await (await provider.DeviceCode.find(ctx.body.device_code))?.destroy();
      return oauthError(ctx, 'invalid_scope', `The OAuth 2.0 Client is not allowed to request scope '${refused}'.`);
    }
    const userCode = await assignHydraUserCode(provider, ctx.body.device_code);
    const deviceCode = tokens.wrap('dc', ctx.body.device_code);
    state.remember(deviceCode);
    ctx.body = {
      device_code: deviceCode,
      user_code: userCode,
      verification_uri: verificationUri,
      verification_uri_complete: `${verificationUri}?user_code=${userCode}`,
      expires_in: ctx.body.expires_in,
      interval,
    };
  };
}

// Re-keys the DeviceCode oidc-provider just stored under a fresh Hydra user code. Like Hydra, a code
// that is already taken is retried (3 attempts, then server_error).
async function assignHydraUserCode(provider, deviceCodeId) {
  const code = await provider.DeviceCode.find(deviceCodeId);
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    const userCode = generateUserCode();
    const key = storageKey(userCode);
    if (!await provider.DeviceCode.findByUserCode(key, { ignoreExpiration: true })) {
      code.userCode = key;
      await code.save();
      return userCode;
    }
  }
  throw new Error('could not generate a unique user_code');
}

// Verification page: turns the typed (or linked) user_code into its storage key before
// oidc-provider normalizes it, so the look-up stays exact and case-sensitive (user-codes.mjs).
async function verificationForm(ctx, next) {
  const form = await readForm(ctx);
  if (form) {
    if (form.has('user_code')) form.set('user_code', keyForSubmittedCode(form.get('user_code')));
    passFormOn(ctx, form);
  }
  return next();
}

// ---------------------------------------------------------------------------------------------------
// Token endpoint (hydra-api.md §1.5):
// - test knob: the next N device-code polls answer slow_down (Hydra OSS never sends it);
// - polling order: Hydra checks pending/denied *before* expiry, oidc-provider after. So an expired,
//   never-approved code answers authorization_pending (for ever), a denied one access_denied, and a
//   redeemed one invalid_grant (Hydra deleted the row); only approved+expired gives expired_token;
// - success: token_type "bearer" (lower case), Hydra-shaped opaque tokens (JWT access tokens for
//   clients with access_token_strategy "jwt") and ID token.
function tokenEndpoint(o) {
  const { provider, tokens, state } = o;
  return async (ctx, next) => {
    const form = await readForm(ctx);
    if (!form) return next();
    if (!ctx.state.rawBody) return oauthError(ctx, 'invalid_request', 'The POST body can not be empty.');
    const grantType = form.get('grant_type');
    tokens.unwrapFields(form, ['device_code', 'refresh_token']);

    if (grantType === DEVICE_GRANT && state.slowDownLeft > 0) {
      state.slowDownLeft -= 1;
      return oauthError(ctx, 'slow_down');
    }
    passFormOn(ctx, form);
    await next();

    if (grantType === DEVICE_GRANT && ctx.body?.error === 'expired_token') {
      await hydraExpiryOrder(ctx, provider, form.get('device_code'));
    }
    if (ctx.status === 200 && ctx.body?.access_token) ctx.body = await hydraTokenResponse(ctx, grantType, o);
  };
}

async function hydraExpiryOrder(ctx, provider, deviceCodeId) {
  const code = await provider.DeviceCode.find(deviceCodeId, { ignoreExpiration: true });
  if (!code) return;
  if (code.consumed) ctx.body = { error: 'invalid_grant', error_description: 'device code already consumed' };
  else if (code.error) ctx.body = { error: code.error, error_description: code.errorDescription };
  else if (!code.accountId) ctx.body = { error: 'authorization_pending' };
}

async function hydraTokenResponse(ctx, grantType, {
  provider, issuer, keyring, tokens, state, jwtClients,
}) {
  const { client, entities } = ctx.oidc;
  const body = ctx.body;
  const source = entities.DeviceCode ?? entities.RefreshToken;
  const meta = state.grantMeta(entities.Grant?.jti ?? source?.grantId, source?.authTime);
  // tamper=... from /test/approve applies to the tokens of that approval, not to refreshes
  const tamper = grantType === DEVICE_GRANT ? meta.tamper : undefined;
  const out = {
    access_token: jwtClients.has(client.clientId)
      ? await tokens.jwt.issue({
        token: await provider.AccessToken.find(body.access_token),
        clientId: client.clientId,
        scope: body.scope,
        ext: meta.ext,
        tamper,
      })
      : tokens.wrap('at', body.access_token),
    token_type: 'bearer',
    expires_in: body.expires_in,
    scope: body.scope,
  };
  if (body.refresh_token) out.refresh_token = tokens.wrap('rt', body.refresh_token);
  if (body.id_token) {
    out.id_token = await hydraIdToken({
      original: body.id_token,
      clientId: client.clientId,
      alg: client.idTokenSignedResponseAlg,
      accessToken: out.access_token,
      issuer,
      keyring,
      meta,
      tamper,
    });
  }
  state.remember(out.access_token, out.refresh_token, out.id_token, out.id_token?.split('.')[2]);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Introspection (hydra-api.md §2): an admin endpoint that authenticates nobody. Any client
// credentials sent are dropped, and the request is made as an internal client that may introspect
// every token. The answer gets Hydra's fields (nbf, aud [], token_use, ext = the consent's
// session.access_token, omitted when empty); `scope=a b` requires *all* listed scopes; an empty token
// is simply inactive.
function introspection({
  provider, state, tokens, adminAuthorization,
}) {
  return async (ctx, next) => {
    const form = await readForm(ctx);
    if (!form || !ctx.state.rawBody) return oauthError(ctx, 'invalid_request', 'The POST body can not be empty.');
    if (!form.get('token')) return sendJson(ctx, 200, { active: false });
    for (const p of ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type']) form.delete(p);
    tokens.unwrapFields(form, ['token']);
    const required = (form.get('scope') ?? '').split(' ').filter(Boolean);
    ctx.req.headers.authorization = adminAuthorization;
    passFormOn(ctx, form);
    await next();

    const r = ctx.body;
    if (r?.active !== true) return;
    const granted = new Set((r.scope ?? '').split(' '));
    const ext = await extOf(provider, state, form.get('token'));
    ctx.body = required.every((s) => granted.has(s)) ? {
      active: true,
      scope: r.scope,
      client_id: r.client_id,
      sub: r.sub,
      exp: r.exp,
      iat: r.iat,
      nbf: r.iat,
      aud: [],
      iss: r.iss,
      token_type: 'Bearer', // capital B here, unlike the token endpoint - as in Hydra
      token_use: r.token_type ? 'access_token' : 'refresh_token', // oidc-provider omits it for RTs
      ...(Object.keys(ext).length && { ext }),
    } : { active: false };
  };
}

// The consent session.access_token of the grant an (unwrapped) token belongs to.
async function extOf(provider, state, id) {
  const token = await provider.AccessToken.find(id) ?? await provider.RefreshToken.find(id);
  return state.findGrantMeta(token?.grantId)?.ext ?? {};
}

// Test knob (POST /test/introspect-next): the next N introspections answer 200 with a canned body,
// sent verbatim, to test the module against malformed answers. Runs before anything else looks at
// the request (but after the ADMIN_TOKEN check, which is the outermost layer of /admin/*).
const cannedIntrospection = ({ state }) => (ctx, next) => {
  const canned = state.introspectNext;
  if (canned.left <= 0) return next();
  canned.left -= 1;
  ctx.status = 200;
  ctx.body = canned.body;
  ctx.set('Content-Type', 'application/json;charset=UTF-8');
  return undefined;
};

// Revocation and userinfo only need the Hydra-shaped tokens unwrapped. (oidc-provider's revocation
// already answers 200 for unknown tokens; a token of another client is silently kept, see
// revocation.allowedPolicy in server.mjs.)
function revocation({ tokens }) {
  return async (ctx, next) => {
    const form = await readForm(ctx);
    if (form) {
      tokens.unwrapFields(form, ['token']);
      passFormOn(ctx, form);
    }
    return next();
  };
}

function userinfo({ tokens }) {
  return async (ctx, next) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(ctx.headers.authorization ?? '');
    if (bearer) ctx.req.headers.authorization = `Bearer ${tokens.unwrap(bearer[1])}`;
    const form = ctx.method === 'POST' ? await readForm(ctx) : undefined;
    if (form) {
      tokens.unwrapFields(form, ['access_token']);
      passFormOn(ctx, form);
    }
    return next();
  };
}

// ---------------------------------------------------------------------------------------------------
/**
 * Installs all Hydra behaviours on `provider`, in front of its router.
 * opts: { issuer, keyring, state, interval, scopes, adminAuthorization, jwtClients (Set of client
 * ids with JWT access tokens), discoveryMaxAge, jwksMaxAge (seconds or undefined) }
 */
export function installHydraQuirks(provider, opts) {
  const jwt = new JwtAccessTokens({ issuer: opts.issuer, keyring: opts.keyring });
  const o = { ...opts, provider, tokens: new OpaqueTokens(jwt) };
  const oauthPaths = [ROUTES.device_authorization, ROUTES.token, ROUTES.introspection, ROUTES.revocation];

  provider.use(on('GET', DISCOVERY_PATHS, discovery(o)));
  provider.use(on('GET', ROUTES.jwks, jwks(o)));
  provider.use(on('POST', ROUTES.introspection, cannedIntrospection(o)));
  provider.use(on('POST', oauthPaths, hydraResponses));
  provider.use(on('POST', ROUTES.device_authorization, deviceAuthorization(o)));
  provider.use(on('POST', ROUTES.code_verification, verificationForm));
  provider.use(on('POST', ROUTES.token, tokenEndpoint(o)));
  provider.use(on('POST', ROUTES.introspection, introspection(o)));
  provider.use(on('POST', ROUTES.revocation, revocation(o)));
  provider.use(on(['GET', 'POST'], ROUTES.userinfo, userinfo(o)));
}
