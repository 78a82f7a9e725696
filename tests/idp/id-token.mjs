// id-token.mjs - ID tokens in Ory Hydra's exact shape (hydra-api.md §3.2-3.3).
//
// Why re-sign instead of configuring oidc-provider: its ID tokens differ from Hydra's in ways the
// configuration can't change - the header has no `typ`, `aud` is a plain string, and there is no
// `jti`, `rat`, `amr` (and `auth_time`/`sid` only in some cases). A module that is tested only
// against oidc-provider's shape could break against Hydra. So the token endpoint middleware takes
// the ID token oidc-provider issued, keeps its subject/lifetime/profile claims, and signs a new one
// with the keyring's current key for the client's algorithm:
//   header  {"alg":"RS256","kid":"<uuid>","typ":"JWT"}
//   payload iss (with trailing slash), sub, aud [client_id], exp, iat, jti (uuid), rat, auth_time,
//           sid, at_hash, acr ("1"), amr (["pwd"]), plus custom top-level claims; never nonce or azp.
import { createHash, randomUUID } from 'node:crypto';
import { SignJWT, decodeJwt } from 'jose';
import { b64url, epochTime } from './util.mjs';

// Claims Hydra sets itself; a custom claim (profile scope claims, /test/approve claims=...) can't
// override them - Hydra also overwrites reserved names in consent `session.id_token`.
const RESERVED = new Set([
  'iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'rat', 'auth_time', 'sid', 'at_hash', 'c_hash',
  's_hash', 'acr', 'amr', 'nonce', 'azp',
]);

export const TAMPER_MODES = new Set(['signature', 'expired', 'issuer', 'audience']);

function customClaims(claims) {
  return Object.fromEntries(Object.entries(claims ?? {}).filter(([name]) => !RESERVED.has(name)));
}

// at_hash: left half of the hash of the access token as the client sees it, base64url (OIDC §3.1.3.6).
function atHash(accessToken, alg) {
  const bits = { 256: 'sha256', 384: 'sha384', 512: 'sha512' }[alg.slice(-3)];
  const digest = createHash(bits).update(accessToken, 'ascii').digest();
  return b64url(digest.subarray(0, digest.length / 2));
}

// Flips one bit in the middle of the signature: still well-formed base64url, no longer valid.
export function corruptSignature(jwt) {
  const [header, payload, signature] = jwt.split('.');
  const sig = Buffer.from(signature, 'base64url');
  sig[sig.length >> 1] ^= 0x01;
  return `${header}.${payload}.${b64url(sig)}`;
}

/**
 * @param original    the ID token oidc-provider issued (compact JWS; trusted, we signed it)
 * @param clientId    the client the token is for
 * @param alg         the client's id_token_signed_response_alg
 * @param accessToken the access token value returned next to it (for at_hash)
 * @param meta        per-grant facts: { sid, rat, authTime, acr, amr, claims (extra), tamper: Set }
 */
export async function hydraIdToken({
  original, clientId, alg, accessToken, issuer, keyring, meta, tamper = new Set(),
}) {
  const claims = decodeJwt(original);
  const now = epochTime();
  const authTime = meta.authTime ?? claims.auth_time ?? now;
  const payload = {
    ...customClaims(claims),
    ...customClaims(meta.claims),
    iss: issuer,
    sub: claims.sub,
    aud: [clientId],
    exp: claims.exp,
    iat: claims.iat ?? now,
    jti: randomUUID(),
    rat: meta.rat ?? authTime,
    auth_time: authTime,
    sid: meta.sid,
    at_hash: atHash(accessToken, alg),
    acr: meta.acr ?? '1', // the login's acr/amr (/test/approve acr=, amr=)
    amr: meta.amr ?? ['pwd'],
  };

  // Test-only corruptions requested through POST /test/approve tamper=...
  if (tamper.has('expired')) Object.assign(payload, { iat: now - 7200, exp: now - 3600 });
  if (tamper.has('issuer')) payload.iss = 'https://wrong-issuer.invalid/';
  if (tamper.has('audience')) payload.aud = ['some-other-client'];

  const { kid, key } = await keyring.signingKey(alg);
  const jwt = await new SignJWT(payload).setProtectedHeader({ alg, kid, typ: 'JWT' }).sign(key);
  return tamper.has('signature') ? corruptSignature(jwt) : jwt;
}
