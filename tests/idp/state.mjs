// state.mjs - what the test-control API reads and steers, shared by all middlewares.
import { randomUUID } from 'node:crypto';

export const STAT_NAMES = [
  'discovery', 'jwks', 'device_auth', 'token', 'introspect', 'revoke', 'userinfo', 'consent_list', 'consent_revoke',
];

export class TestState {
  stats = TestState.#zero();

  slowDownLeft = 0; // the next N device-code polls answer slow_down

  introspectNext = { body: undefined, left: 0 }; // the next `left` introspections answer `body` verbatim

  #issued = new Set(); // every secret value handed out, in issue order

  #grants = new Map(); // grantId -> { sid, rat, authTime, claims, tamper }

  static #zero() {
    return Object.fromEntries(STAT_NAMES.map((n) => [n, 0]));
  }

  count(name) {
    if (name in this.stats) this.stats[name] += 1;
  }

  resetStats() {
    this.stats = TestState.#zero();
  }

  remember(...secrets) {
    for (const s of secrets) if (s) this.#issued.add(s);
  }

  issued() {
    return [...this.#issued];
  }

  // Per-grant facts that Hydra keeps with the login/consent session: the login session id (`sid`),
  // the login request time (`rat`), the login's acr/amr/auth time, the consent's session.id_token
  // (`claims`) and session.access_token (`ext`), and the test-only `tamper` modes. Created on first
  // use so grants approved in the browser get them too; refreshes reuse them.
  grantMeta(grantId, authTime) {
    if (!this.#grants.has(grantId)) {
      this.#grants.set(grantId, {
        sid: randomUUID(), rat: authTime, authTime, acr: '1', amr: ['pwd'], claims: {}, ext: {}, tamper: new Set(),
      });
    }
    return this.#grants.get(grantId);
  }

  // The same, but never creates one.
  findGrantMeta(grantId) {
    return this.#grants.get(grantId);
  }
}
