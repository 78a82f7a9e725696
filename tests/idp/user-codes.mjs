// user-codes.mjs - Hydra-style device user codes on top of oidc-provider.
//
// Hydra's default user_code (entropy preset "high", hydra-api.md §1.4): 8 characters drawn uniformly
// from crypto randomness over `abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY34679`, no separator, and
// looked up byte-for-byte: case matters, nothing is trimmed.
//
// oidc-provider can't produce or keep such codes: its deviceFlow only offers the base-20 / digits
// charsets, and it normalizes every user code (upper-cases it, strips non-word characters) both
// before storing it and before looking up what a browser submitted. So "pXk3fQaM" and "PXK3FQAM"
// would be the same code.
//
// The trick: oidc-provider stores a *storage key* instead of the code - the upper-case hex of the
// code's UTF-8 bytes ("pXk3fQaM" -> "70586B336651614D"). Hex digits survive normalize()
// unchanged, and since every character has its own hex pair, different case gives a different key,
// so oidc-provider's own index does an exact, case-sensitive look-up. Two hooks apply it:
//   1. after oidc-provider answers /oauth2/device/auth, the response's code is replaced by a fresh
//      Hydra code and the DeviceCode row is re-saved under that code's key (hydra-quirks.mjs);
//   2. before oidc-provider sees a POST to /oauth2/device/verify, the typed user_code is turned into
//      its key. The confirm page oidc-provider renders next posts the key back in a hidden field, so a
//      value that already is a key is passed through.
// The test API (/test/approve etc.) looks codes up with the same key, hence also case-sensitively.
import { randomInt } from 'node:crypto';

export const USER_CODE_CHARSET = 'abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY34679';
export const USER_CODE_LENGTH = 8;

const HYDRA_CODE = new RegExp(`^[${USER_CODE_CHARSET}]{${USER_CODE_LENGTH}}$`);

export function generateUserCode() {
  let code = '';
  for (let i = 0; i < USER_CODE_LENGTH; i += 1) code += USER_CODE_CHARSET[randomInt(USER_CODE_CHARSET.length)];
  return code;
}

export function storageKey(userCode) {
  return Buffer.from(userCode, 'utf8').toString('hex').toUpperCase();
}

// The Hydra code a storage key stands for, or undefined if `value` is not a key of a valid code.
export function codeFromKey(value) {
  if (typeof value !== 'string' || !/^[0-9A-F]{16}$/.test(value)) return undefined;
  const code = Buffer.from(value, 'hex').toString('utf8');
  return HYDRA_CODE.test(code) ? code : undefined;
}

// What the verification form submitted -> what oidc-provider should look up.
export function keyForSubmittedCode(value) {
  return codeFromKey(value) ? value : storageKey(value);
}

// For pages: show the code, not its key.
export function displayCode(value) {
  return codeFromKey(value) ?? value;
}
