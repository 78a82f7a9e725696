// store.mjs - in-memory storage adapter for oidc-provider.
//
// Why not oidc-provider's bundled MemoryAdapter: it drops a row as soon as its TTL passes and keeps at
// most ~2000 rows. Hydra keeps a device-code row after it expires (until a janitor job deletes it), and
// that is what makes its quirk possible: an expired, never-approved device code keeps answering
// `authorization_pending`. So DeviceCode rows here are never dropped for age; everything else expires
// by its TTL. The store also lets the test API list pending device codes.
import { epochTime } from './util.mjs';

const GRANT_MEMBERS = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest',
]);

export class MemoryStore {
  rows = new Map(); // "Model:id" -> { payload, expiresAt (ms) }

  userCodes = new Map(); // stored (normalized) user code -> DeviceCode id

  sessionUids = new Map(); // Session uid -> Session id

  grants = new Map(); // grantId -> Set of "Model:id"

  // oidc-provider's `adapter` option: a factory called once per model name.
  adapterFactory() {
    return (model) => new Adapter(model, this);
  }

  // Deletes a grant and every token, code and device code issued under it (consent revocation).
  async revokeGrant(grantId) {
    const grants = new Adapter('Grant', this);
    await grants.revokeByGrantId(grantId);
    await grants.destroy(grantId);
  }

  // Payloads of unexpired rows of one model.
  * payloads(model) {
    for (const [key, row] of this.rows) {
      if (key.startsWith(`${model}:`) && row.expiresAt > Date.now()) yield row.payload;
    }
  }
}

class Adapter {
  constructor(model, store) {
    this.model = model;
    this.store = store;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    this.#unindex(id);
    const keepForever = this.model === 'DeviceCode' || typeof expiresIn !== 'number';
    const expiresAt = keepForever ? Infinity : Date.now() + expiresIn * 1000;
    const key = this.key(id);
    this.store.rows.set(key, { payload, expiresAt });
    if (payload.userCode) this.store.userCodes.set(payload.userCode, id);
    if (this.model === 'Session' && payload.uid) this.store.sessionUids.set(payload.uid, id);
    if (GRANT_MEMBERS.has(this.model) && payload.grantId) {
      if (!this.store.grants.has(payload.grantId)) this.store.grants.set(payload.grantId, new Set());
      this.store.grants.get(payload.grantId).add(key);
    }
  }

  async find(id) {
    const row = this.store.rows.get(this.key(id));
    if (!row) return undefined;
    if (row.expiresAt <= Date.now()) {
      await this.destroy(id);
      return undefined;
    }
    return row.payload;
  }

  async findByUserCode(userCode) {
    const id = this.store.userCodes.get(userCode);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUid(uid) {
    const id = this.store.sessionUids.get(uid);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const row = this.store.rows.get(this.key(id));
    if (row) row.payload.consumed = epochTime();
  }

  async destroy(id) {
    this.#unindex(id);
    this.store.rows.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const key of this.store.grants.get(grantId) ?? []) {
      const [model, ...rest] = key.split(':');
      await new Adapter(model, this.store).destroy(rest.join(':'));
    }
    this.store.grants.delete(grantId);
  }

  // Removes the secondary indexes that point at this row (before an update or a delete).
  #unindex(id) {
    const row = this.store.rows.get(this.key(id));
    if (!row) return;
    const { userCode, uid, grantId } = row.payload;
    if (userCode && this.store.userCodes.get(userCode) === id) this.store.userCodes.delete(userCode);
    if (uid && this.store.sessionUids.get(uid) === id) this.store.sessionUids.delete(uid);
    this.store.grants.get(grantId)?.delete(this.key(id));
  }
}
