// keys.mjs - the signing keys, generated the way Ory Hydra generates them.
//
// Hydra's ID-token key set holds RSA 4096-bit keys, alg RS256, use "sig", kid = random UUIDv4, newest
// first; the newest key signs (hydra-api.md §3). We add one EC P-256 / ES256 key (also a UUID kid)
// because the pam-ory-basic client asks for ES256 ID tokens, so the module's ES256 path gets exercised.
//
// This keyring, not oidc-provider's keystore, is the source of truth: server.mjs serves the JWKS from
// here and re-signs every ID token with `signingKey()`. oidc-provider gets the initial private keys
// only because it must be able to sign (the tokens it signs are replaced before they leave).
import { createPublicKey, generateKeyPair, randomUUID } from 'node:crypto';
import {
  existsSync, readFileSync, renameSync, writeFileSync,
} from 'node:fs';
import { promisify } from 'node:util';
import { importJWK } from 'jose';

const generate = promisify(generateKeyPair);

async function newRsaKey() {
  const { privateKey } = await generate('rsa', { modulusLength: 4096, publicExponent: 0x10001 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: 'RS256' };
}

async function newEcKey() {
  const { privateKey } = await generate('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: 'ES256' };
}

// The public half in go-jose's member order, as Hydra prints it:
// {"use":"sig","kty":"RSA","kid":"…","alg":"RS256","n":"…","e":"AQAB"}.
function publicJwk(k) {
  if (k.kty === 'RSA') return { use: k.use, kty: k.kty, kid: k.kid, alg: k.alg, n: k.n, e: k.e };
  return { use: k.use, kty: k.kty, kid: k.kid, crv: k.crv, alg: k.alg, x: k.x, y: k.y };
}

export class Keyring {
  #keys; // private JWKs, newest first

  #imported = new Map(); // kid -> jose KeyObject, so each key is imported once

  constructor(keys) {
    this.#keys = keys;
  }

  // Reuses KEYS_FILE when it exists (fast restarts: RSA 4096 takes 1-2 s to generate), else
  // generates a fresh RS256 + ES256 pair and, if a path was given, saves it there (mode 0600).
  static async open(keysFile) {
    if (keysFile && existsSync(keysFile)) {
      const { keys } = JSON.parse(readFileSync(keysFile, 'utf8'));
      const ring = new Keyring(keys);
      for (const alg of ['RS256', 'ES256']) {
        if (!ring.#current(alg)) throw new Error(`${keysFile}: no ${alg} private key`);
      }
      return ring;
    }
    const ring = new Keyring(await Promise.all([newRsaKey(), newEcKey()]));
    if (keysFile) { // write + rename, so a server starting in parallel never reads half a file
      writeFileSync(`${keysFile}.${process.pid}.tmp`, JSON.stringify({ keys: ring.#keys }), { mode: 0o600 });
      renameSync(`${keysFile}.${process.pid}.tmp`, keysFile);
    }
    return ring;
  }

  #current(alg) {
    return this.#keys.find((k) => k.alg === alg);
  }

  // Private JWKS for oidc-provider's constructor.
  privateJwks() {
    return { keys: this.#keys.map((k) => ({ ...k })) };
  }

  // What /.well-known/jwks.json serves.
  publicJwks() {
    return { keys: this.#keys.map(publicJwk) };
  }

  algs() {
    return [...new Set(this.#keys.map((k) => k.alg))];
  }

  // The newest key for `alg` - Hydra signs with the first key of the set.
  async signingKey(alg) {
    const jwk = this.#current(alg);
    if (!jwk) throw new Error(`no signing key for ${alg}`);
    if (!this.#imported.has(jwk.kid)) this.#imported.set(jwk.kid, await importJWK(jwk, alg));
    return { kid: jwk.kid, key: this.#imported.get(jwk.kid) };
  }

  // The public key with this kid while it is still in the set (for checking our own JWT access
  // tokens), or undefined: a key removed from the set no longer validates anything, as in Hydra.
  verificationKey(kid) {
    const jwk = this.#keys.find((k) => k.kid === kid);
    return jwk && createPublicKey({ key: publicJwk(jwk), format: 'jwk' });
  }

  // Like `POST /admin/keys/hydra.openid.id-token {"alg":"RS256"}`: a new RSA key signs from now on and
  // is listed first. Old keys stay in the JWKS (as in Hydra) unless dropOld, which removes the older
  // RSA keys (the ES256 key is kept: pam-ory-basic still needs it).
  async rotate({ dropOld = false } = {}) {
    const key = await newRsaKey();
    const rest = dropOld ? this.#keys.filter((k) => k.alg !== 'RS256') : this.#keys;
    this.#keys = [key, ...rest];
    return key.kid;
  }
}
