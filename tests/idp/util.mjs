// util.mjs - small HTTP and encoding helpers shared by the server modules.

export const epochTime = () => Math.floor(Date.now() / 1000);

const MAX_BODY = 64 * 1024;

// Reads an application/x-www-form-urlencoded request body once and caches it on ctx.state.
// Returns undefined for other content types (those are left to oidc-provider untouched).
export async function readForm(ctx) {
  if (ctx.state.form) return ctx.state.form;
  if (!ctx.is('application/x-www-form-urlencoded')) return undefined;
  const chunks = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += chunk.length;
    if (size > MAX_BODY) ctx.throw(413, 'request body too large');
    chunks.push(chunk);
  }
  ctx.state.rawBody = Buffer.concat(chunks).toString('utf8');
  ctx.state.form = new URLSearchParams(ctx.state.rawBody);
  return ctx.state.form;
}

// Hands a (possibly rewritten) form on to oidc-provider. Its body parser falls back to `req.body` when
// an upstream middleware already consumed the stream - a documented path (it logs one warning).
export function passFormOn(ctx, form) {
  ctx.req.body = form.toString();
}

// JSON response with Hydra's exact content type (koa would write "application/json; charset=utf-8").
export function sendJson(ctx, status, body, { noStore = false } = {}) {
  ctx.status = status;
  ctx.body = JSON.stringify(body);
  ctx.set('Content-Type', 'application/json;charset=UTF-8');
  if (noStore) {
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
  }
}

// The client_id from an HTTP Basic header (URL-decoded as Hydra does), or undefined.
export function basicClientId(header) {
  const m = /^basic\s+(\S+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  try {
    return decodeURIComponent(decoded.slice(0, i).replace(/\+/g, '%20'));
  } catch {
    return undefined;
  }
}

export const b64url = (buf) => Buffer.from(buf).toString('base64url');
