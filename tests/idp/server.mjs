// server.mjs - TEST-ONLY OpenID provider for pam_ory that behaves like Ory Hydra.
//
// A real OIDC server (oidc-provider 9) with Hydra's URLs, keys, user codes, token and error shapes
// (hydra-quirks.mjs, id-token.mjs, user-codes.mjs), plus test-control endpoints (test-api.mjs).
// Never run it anywhere but on loopback: the browser login accepts any password.
//
// Env: PORT (4444; 0 = any free port), TLS_CERT + TLS_KEY (PEM paths -> HTTPS), DEVICE_CODE_TTL (s,
// 600), DEVICE_INTERVAL (s, 5), KEYS_FILE (reuse/persist the private JWKS), ADMIN_TOKEN (/admin/*
// then needs this bearer token), DISCOVERY_MAX_AGE / JWKS_MAX_AGE (s; Cache-Control on those),
// ABSOLUTE_LINKS (1: consent-list Link URLs carry the origin), CONSENT_PAGE_SIZE (consent-list page
// size when the request has none; 100). When ready it prints exactly one line to stdout,
// `listening <issuer>`; everything else goes to stderr.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import Provider from 'oidc-provider';
import { CONSENT_SESSIONS, adminAuth, consentAdmin } from './admin-api.mjs';
import { ConsentSessions, recordDeviceConsent } from './consent.mjs';
import { DEVICE_GRANT, ROUTES, installHydraQuirks } from './hydra-quirks.mjs';
import { Keyring } from './keys.mjs';
import { TestState } from './state.mjs';
import { MemoryStore } from './store.mjs';
import { testApi } from './test-api.mjs';
import { displayCode } from './user-codes.mjs';

// stdout carries only the "listening" line a harness waits for; oidc-provider prints NOTICEs with
// console.info, so send console.log/info to stderr as well.
console.log = console.error;
console.info = console.error;

function envInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

const env = {
  port: envInt('PORT', 4444),
  tlsCert: process.env.TLS_CERT,
  tlsKey: process.env.TLS_KEY,
  deviceCodeTtl: envInt('DEVICE_CODE_TTL', 600),
  interval: envInt('DEVICE_INTERVAL', 5),
  keysFile: process.env.KEYS_FILE || undefined,
  adminToken: process.env.ADMIN_TOKEN || undefined,
  discoveryMaxAge: envInt('DISCOVERY_MAX_AGE', undefined),
  jwksMaxAge: envInt('JWKS_MAX_AGE', undefined),
  absoluteLinks: process.env.ABSOLUTE_LINKS === '1',
  consentPageSize: Math.min(envInt('CONSENT_PAGE_SIZE', 100) || 100, 500),
};

// ---------------------------------------------------------------------------------------------------
// Clients, as an admin would create them in Hydra for the PAM hosts.
const SCOPES = ['openid', 'offline_access', 'offline', 'profile', 'email', 'sudo'];
const deviceClient = {
  grant_types: [DEVICE_GRANT, 'refresh_token'],
  response_types: [],
  redirect_uris: [],
  scope: 'openid offline_access profile email sudo',
};
const CLIENTS = [
  { // what Hydra recommends for PAM hosts: a public client, no secret on every machine
    ...deviceClient,
    client_id: 'pam-ory-public',
    client_name: 'pam_ory test (public)',
    token_endpoint_auth_method: 'none',
    id_token_signed_response_alg: 'RS256',
  },
  { // Hydra's default auth method; ES256 ID tokens so the module's ES256 path runs end to end
    ...deviceClient,
    client_id: 'pam-ory-basic',
    client_secret: 'test-secret-basic-0123456789',
    client_name: 'pam_ory test (client_secret_basic)',
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'ES256',
  },
  {
    ...deviceClient,
    client_id: 'pam-ory-post',
    client_secret: 'test-secret-post-0123456789',
    client_name: 'pam_ory test (client_secret_post)',
    token_endpoint_auth_method: 'client_secret_post',
    id_token_signed_response_alg: 'RS256',
  },
  { // Hydra's access_token_strategy "jwt" as a per-client setting: JWT access tokens (access-token-jwt.mjs)
    ...deviceClient,
    client_id: 'pam-ory-jwt',
    client_name: 'pam_ory test (JWT access tokens)',
    token_endpoint_auth_method: 'none',
    id_token_signed_response_alg: 'RS256',
    access_token_strategy: 'jwt', // not oidc-provider metadata: it ignores it, hydra-quirks reads it
  },
  { // internal: /admin/oauth2/introspect is made as this client (Hydra's admin API needs no auth)
    client_id: 'hydra-admin-introspector',
    client_secret: 'internal-introspection-secret-0123456789',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: [],
    response_types: [],
    redirect_uris: [],
  },
];
const ADMIN = CLIENTS.at(-1);
const JWT_CLIENTS = new Set(CLIENTS.filter((c) => c.access_token_strategy === 'jwt').map((c) => c.client_id));
const ADMIN_AUTHORIZATION = `Basic ${Buffer.from(`${ADMIN.client_id}:${ADMIN.client_secret}`).toString('base64')}`;

// ---------------------------------------------------------------------------------------------------
// Browser pages of the device flow. oidc-provider's defaults upper-case the input field (CSS) and show
// its internal storage key; these show the real, case-sensitive Hydra code.
const page = (title, body) => `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title>
<style>body{font-family:sans-serif;max-width:28em;margin:3em auto}code{font-size:2em}</style></head>
<body><h1>${title}</h1>${body}</body></html>`;
const htmlEscape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function userCodeInputSource(ctx, form, out, err) {
  let msg = '<p>Enter the code displayed on your device (case-sensitive)</p>';
  if (err?.userCode || err?.name === 'NoCodeError') msg = '<p>The code you entered is incorrect. Try again</p>';
  else if (err?.name === 'AbortedError') msg = '<p>The Sign-in request was interrupted</p>';
  else if (err) msg = '<p>There was an error processing your request</p>';
  const shown = err?.userCode ? form.replace(htmlEscape(err.userCode), htmlEscape(displayCode(err.userCode))) : form;
  ctx.body = page('Sign-in', `${msg}${shown}<button type="submit" form="op.deviceInputForm">Continue</button>`);
}

async function userCodeConfirmSource(ctx, form, client) {
  const code = displayCode(ctx.oidc.deviceCode.userCode);
  ctx.body = page('Confirm Device', `<p><strong>${htmlEscape(client.clientName || client.clientId)}</strong></p>
<p>The following code should be displayed on your device</p><p><code>${htmlEscape(code)}</code></p>${form}
<button autofocus type="submit" form="op.deviceConfirmForm">Continue</button>
<button type="submit" form="op.deviceConfirmForm" value="yes" name="abort">[ Abort ]</button>`);
}

// Last browser page. A device flow approved in the browser gets its consent session here, as Hydra
// persists one when the consent is accepted (hydra-api.md §1.7 step 5).
const successSource = ({ state, consents }) => async (ctx) => {
  const code = ctx.oidc.deviceCode;
  recordDeviceConsent(consents, { code, meta: state.grantMeta(code.grantId, code.authTime) });
  const name = htmlEscape(ctx.oidc.client.clientName || ctx.oidc.client.clientId);
  ctx.body = page('Sign-in Success', `<p>Your sign-in with ${name} was successful, you can now close this page.</p>`);
};

// ---------------------------------------------------------------------------------------------------
function providerConfiguration({
  keyring, store, state, consents,
}) {
  return {
    clients: CLIENTS,
    jwks: keyring.privateJwks(),
    adapter: store.adapterFactory(),
    cookies: { keys: ['pam-ory-test-idp-cookie-key-not-secret'] },
    scopes: SCOPES,
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
    conformIdTokenClaims: false, // scope claims go into the ID token, as a Hydra consent app would put them
    async findAccount(ctx, sub) {
      return {
        accountId: sub,
        async claims() {
          return {
            sub, email: `${sub}@example.test`, email_verified: true, name: `Test ${sub}`, preferred_username: sub,
          };
        },
      };
    },
    features: {
      devInteractions: { enabled: true }, // built-in login (any password; login name = sub) + consent
      deviceFlow: {
        enabled: true, userCodeInputSource, userCodeConfirmSource, successSource: successSource({ state, consents }),
      },
      // Hydra's introspection is unauthenticated and sees every token (the caller is the internal client)
      introspection: { enabled: true, allowedPolicy: () => true },
      // Hydra answers 200 and keeps the token when a client revokes another client's token
      revocation: { enabled: true, allowedPolicy: (ctx, client, token) => token.clientId === client.clientId },
    },
    // Hydra issues a refresh token for "offline" or "offline_access", and always rotates it
    issueRefreshToken: (ctx, client, source) => client.grantTypeAllowed('refresh_token')
      && (source.scopes.has('offline_access') || source.scopes.has('offline')),
    rotateRefreshToken: true,
    routes: ROUTES,
    ttl: {
      AccessToken: 3600,
      IdToken: 3600,
      RefreshToken: 720 * 3600, // Hydra's default ttl.refresh_token
      DeviceCode: env.deviceCodeTtl,
      Grant: 720 * 3600,
      Session: 86400,
      Interaction: 1800,
    },
  };
}

// Request counts for GET /test/stats (by path, or by path and method).
const STAT_PATHS = {
  [CONSENT_SESSIONS]: { GET: 'consent_list', DELETE: 'consent_revoke' },
  '/.well-known/openid-configuration': 'discovery',
  '/.well-known/oauth-authorization-server': 'discovery',
  [ROUTES.jwks]: 'jwks',
  [ROUTES.device_authorization]: 'device_auth',
  [ROUTES.token]: 'token',
  [ROUTES.introspection]: 'introspect',
  [ROUTES.revocation]: 'revoke',
  [ROUTES.userinfo]: 'userinfo',
};

async function main() {
  const started = process.hrtime.bigint();
  const tls = env.tlsCert && env.tlsKey;
  const server = tls
    ? https.createServer({ cert: readFileSync(env.tlsCert), key: readFileSync(env.tlsKey) })
    : http.createServer();
  // The issuer contains the port, and PORT=0 means the kernel picks it: listen first, build later.
  server.listen(env.port, '127.0.0.1');
  const [keyring] = await Promise.all([Keyring.open(env.keysFile), once(server, 'listening')]);
  const issuer = `${tls ? 'https' : 'http'}://127.0.0.1:${server.address().port}/`; // Hydra: trailing slash

  const store = new MemoryStore();
  const state = new TestState();
  const consents = new ConsentSessions({ issuer, clients: CLIENTS });
  const provider = new Provider(issuer, providerConfiguration({
    keyring, store, state, consents,
  }));
  provider.on('server_error', (ctx, err) => console.error('server_error', ctx.method, ctx.path, err));

  provider.use((ctx, next) => {
    const stat = STAT_PATHS[ctx.path];
    state.count(typeof stat === 'object' ? stat[ctx.method] : stat);
    return next();
  });
  provider.use(testApi({
    provider, keyring, state, store, consents, clients: CLIENTS,
  }));
  provider.use(adminAuth(env.adminToken)); // outermost layer of /admin/*
  provider.use(consentAdmin({
    consents, store, linkBase: env.absoluteLinks ? new URL(issuer).origin : '', defaultPageSize: env.consentPageSize,
  }));
  installHydraQuirks(provider, {
    issuer,
    keyring,
    state,
    interval: env.interval,
    scopes: SCOPES,
    adminAuthorization: ADMIN_AUTHORIZATION,
    jwtClients: JWT_CLIENTS,
    discoveryMaxAge: env.discoveryMaxAge,
    jwksMaxAge: env.jwksMaxAge,
  });

  server.on('request', provider.callback());
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  console.error(`pam-ory test IdP ready in ${ms.toFixed(0)} ms (device code ttl ${env.deviceCodeTtl}s, interval ${env.interval}s)`);
  process.stdout.write(`listening ${issuer}\n`);

  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
