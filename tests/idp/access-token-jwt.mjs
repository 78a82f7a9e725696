// access-token-jwt.mjs - JWT access tokens, as Hydra issues them with access_token_strategy=jwt
// (hydra-api.md §3.4), for clients configured that way (pam-ory-jwt).
//
// oidc-provider still issues and stores its own opaque access token; the token endpoint hands out a
// JWT in its place and remembers jti -> opaque id. Hydra stores JWT access tokens server-side too,
// so introspection, revocation, userinfo and consent revocation work on them unchanged once the JWT
// is mapped back (unwrap). The JWT:
//   header  {"alg":"RS256","kid":"<current RSA kid>","typ":"JWT"}   (Hydra: typ JWT, never at+jwt)
//   payload iss, sub, aud (granted audience, [] here), exp, iat, nbf (= iat), jti (uuid),
//           client_id, scp (granted scopes as an array: scope_claim "list"), ext (consent
//           session.access_token: Hydra's default mirror_top_level_claims puts it there).
import { randomUUID, verify } from 'node:crypto';
import { SignJWT } from 'jose';
import { corruptSignature } from './id-token.mjs';
import { epochTime } from './util.mjs';

// /test/approve tamper=... on the JWT access token of that approval (not on refreshes).
function tamperClaims(claims, tamper, now) {
  if (tamper.has('expired')) Object.assign(claims, { iat: now - 7200, nbf: now - 7200, exp: now - 3600 });
  if (tamper.has('issuer')) claims.iss = 'https://wrong-issuer.invalid/';
  // neither aud nor client_id names the real client any more
  if (tamper.has('audience')) Object.assign(claims, { aud: ['someone-else'], client_id: 'someone-else' });
}

const decodePart = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
const JWS = /^[\w-]+\.[\w-]+\.[\w-]*$/;
// What a JWT that does not validate becomes: an id oidc-provider doesn't know. Passing the JWT
// itself on would make oidc-provider answer "unsupported_token_type" where Hydra says inactive.
const INVALID = 'invalid-jwt-access-token';

export class JwtAccessTokens {
  #ids = new Map(); // jti -> oidc-provider AccessToken id

  constructor({ issuer, keyring }) {
    this.issuer = issuer;
    this.keyring = keyring;
  }

  /**
   * @param token  oidc-provider's stored AccessToken, as found by id (jti, accountId, iat, exp)
   * @param scope  granted scope, space-separated
   * @param ext    consent session.access_token
   */
  async issue({
    token, clientId, scope, ext = {}, tamper = new Set(),
  }) {
    const jti = randomUUID();
    const claims = {
      iss: this.issuer,
      sub: token.accountId,
      aud: [],
      exp: token.exp,
      iat: token.iat,
      nbf: token.iat,
      jti,
      client_id: clientId,
      scp: scope.split(' ').filter(Boolean),
      ext,
    };
    tamperClaims(claims, tamper, epochTime());
    const { kid, key } = await this.keyring.signingKey('RS256');
    const jwt = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(key);
    this.#ids.set(jti, token.jti);
    return tamper.has('signature') ? corruptSignature(jwt) : jwt;
  }

  // JWT -> oidc-provider's id; other values are returned unchanged. Like Hydra's JWT strategy, the
  // token must first validate on its own (signature with a key still in the set, exp not passed)
  // before storage is consulted; one that doesn't (also an ID token) becomes INVALID.
  unwrap(value) {
    if (typeof value !== 'string' || !JWS.test(value)) return value;
    try {
      const [h, p, s] = value.split('.');
      const header = decodePart(h);
      const key = header.alg === 'RS256' && this.keyring.verificationKey(header.kid);
      if (!key || !verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'))) return INVALID;
      const { jti, exp } = decodePart(p);
      return (exp > epochTime() && this.#ids.get(jti)) || INVALID;
    } catch {
      return INVALID;
    }
  }
}
