#!/usr/bin/env bash
# smoke.sh - end-to-end check of the test IdP with curl + node only.
# Starts the server (PORT=0, then a short-TTL, an ADMIN_TOKEN/cache-header and a TLS instance), drives every Hydra behaviour and
# test endpoint the pam_ory tests rely on, prints one line per check and "N passed, M failed".
# Exit status: 0 only if every check passed. Servers are stopped on exit.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
PIDS=()
PASSED=0
FAILED=0
DEVICE_GRANT=urn:ietf:params:oauth:grant-type:device_code
CODE_RE='^[abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY34679]{8}$'
UUID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT

ok() { PASSED=$((PASSED + 1)); echo "ok   - $1"; }
bad() { FAILED=$((FAILED + 1)); echo "FAIL - $1${2:+ :: $2}"; }
# check NAME ACTUAL EXPECTED
check() { if [ "$2" == "$3" ]; then ok "$1"; else bad "$1" "got '$2', want '$3'"; fi; }
# check_re NAME ACTUAL REGEX
check_re() { if [[ "$2" =~ $3 ]]; then ok "$1"; else bad "$1" "'$2' !~ /$3/"; fi; }

# js EXPR: evaluates EXPR with `d` = the JSON on stdin; prints strings raw, other values as JSON.
js() {
  node -e 'const d = JSON.parse(require("fs").readFileSync(0, "utf8") || "null");
    const v = eval(process.argv[1]); process.stdout.write(typeof v === "string" ? v : JSON.stringify(v) ?? "undefined");' "$1"
}
# jwt PART TOKEN: decoded header (0) or payload (1) as JSON.
jwt() { node -e 'process.stdout.write(Buffer.from(process.argv[2].split(".")[+process.argv[1]], "base64url").toString())' "$1" "$2"; }

# verify_jwt TOKEN JWKS_JSON: prints "valid" if the signature checks out with the key named by kid.
verify_jwt() {
  node -e '
    const crypto = require("crypto");
    const [tok, jwks] = [process.argv[1], JSON.parse(process.argv[2])];
    const [h, p, s] = tok.split(".");
    const hdr = JSON.parse(Buffer.from(h, "base64url"));
    const jwk = jwks.keys.find((k) => k.kid === hdr.kid);
    if (!jwk) { console.log("no-such-kid"); process.exit(0); }
    const key = crypto.createPublicKey({ key: jwk, format: "jwk" });
    const opts = hdr.alg === "ES256" ? { key, dsaEncoding: "ieee-p1363" } : key;
    console.log(crypto.verify("sha256", Buffer.from(`${h}.${p}`), opts, Buffer.from(s, "base64url")) ? "valid" : "invalid");
  ' "$1" "$2"
}

# at_hash_of TOKEN: left half of SHA-256, base64url.
at_hash_of() { node -e 'const d = require("crypto").createHash("sha256").update(process.argv[1]).digest(); console.log(d.subarray(0, 16).toString("base64url"))' "$1"; }

# req ARGS...: curl; sets STATUS, BODY and HEADERS (file).
req() {
  STATUS=$(curl -s -D "$TMP/headers" -o "$TMP/body" -w '%{http_code}' "$@")
  BODY=$(cat "$TMP/body")
}
header() { grep -i "^$1:" "$TMP/headers" | head -1 | cut -d' ' -f2- | tr -d '\r'; }

# start_server NAME [ENV=VAL...]: starts server.mjs, waits for "listening <issuer>", sets ISSUER and B.
start_server() {
  local name=$1; shift
  local t0; t0=$(date +%s%N)
  env "$@" node "$HERE/server.mjs" > "$TMP/$name.out" 2> "$TMP/$name.err" &
  PIDS+=($!)
  for _ in $(seq 300); do
    grep -q '^listening ' "$TMP/$name.out" 2>/dev/null && break
    sleep 0.05
  done
  ISSUER=$(sed -n 's/^listening //p' "$TMP/$name.out")
  B=${ISSUER%/}
  if [ -z "$ISSUER" ]; then bad "$name server starts" "$(cat "$TMP/$name.err")"; exit 1; fi
  echo "# $name server: $ISSUER, ready after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}

# device_auth CLIENT [extra curl args]: POST /oauth2/device/auth; sets DC UC VUC (and STATUS/BODY).
device_auth() {
  local client=$1; shift
  case $client in
    pam-ory-public) req "$B/oauth2/device/auth" -d client_id=pam-ory-public "$@" ;;
    pam-ory-basic) req "$B/oauth2/device/auth" -u pam-ory-basic:test-secret-basic-0123456789 -d client_id=pam-ory-basic "$@" ;;
    pam-ory-post) req "$B/oauth2/device/auth" -d client_id=pam-ory-post -d client_secret=test-secret-post-0123456789 "$@" ;;
    pam-ory-jwt) req "$B/oauth2/device/auth" -d client_id=pam-ory-jwt "$@" ;;
  esac
  DC=$(echo "$BODY" | js d.device_code); UC=$(echo "$BODY" | js d.user_code); VUC=$(echo "$BODY" | js d.verification_uri_complete)
}
# poll CLIENT DEVICE_CODE: one device-code token request.
poll() {
  case $1 in
    pam-ory-public) req "$B/oauth2/token" -d client_id=pam-ory-public -d grant_type=$DEVICE_GRANT -d device_code="$2" ;;
    pam-ory-basic) req "$B/oauth2/token" -u pam-ory-basic:test-secret-basic-0123456789 -d grant_type=$DEVICE_GRANT -d device_code="$2" ;;
    pam-ory-post) req "$B/oauth2/token" -d client_id=pam-ory-post -d client_secret=test-secret-post-0123456789 -d grant_type=$DEVICE_GRANT -d device_code="$2" ;;
    pam-ory-jwt) req "$B/oauth2/token" -d client_id=pam-ory-jwt -d grant_type=$DEVICE_GRANT -d device_code="$2" ;;
  esac
}
# approved_tokens CLIENT SUB [approve args...]: a device flow approved for SUB and redeemed;
# sets AT RT IDT (tokens) and CID (the approval's consent_request_id).
approved_tokens() {
  local client=$1 sub=$2; shift 2
  device_auth "$client" --data-urlencode "$SCOPE"
  req "$B/test/approve" -d user_code="$UC" -d sub="$sub" "$@"; CID=$(echo "$BODY" | js d.consent_request_id)
  poll "$client" "$DC"
  AT=$(echo "$BODY" | js d.access_token); RT=$(echo "$BODY" | js d.refresh_token); IDT=$(echo "$BODY" | js d.id_token)
}
# active TOKEN [curl args...]: introspection's "active" for TOKEN.
active() { local t=$1; shift; curl -s "$B/admin/oauth2/introspect" "$@" -d token="$t" | js d.active; }
# link_url REL: the URL with rel=REL in the last response's Link header, or "".
link_url() {
  header link | node -e 'const parts = require("fs").readFileSync(0, "utf8").split(",");
    const m = parts.map((p) => /^\s*<([^>]*)>; rel="([^"]+)"$/.exec(p.trim())).find((x) => x && x[2] === process.argv[1]);
    process.stdout.write(m ? m[1] : "")' "$1"
}
SCOPE='scope=openid offline_access profile email sudo'
swapcase() { echo "$1" | tr 'a-zA-Z' 'A-Za-z'; }

cd "$HERE"
if [ ! -d node_modules ]; then npm ci --no-audit --no-fund >/dev/null 2>&1 || { echo "npm ci failed"; exit 1; }; fi

# =====================================================================================================
start_server main PORT=0 DEVICE_INTERVAL=1 KEYS_FILE="$TMP/keys.json"
check "stdout is exactly one listening line" "$(cat "$TMP/main.out")" "listening $ISSUER"
check_re "issuer is http://127.0.0.1:PORT/" "$ISSUER" '^http://127\.0\.0\.1:[0-9]+/$'

# --- discovery + JWKS --------------------------------------------------------------------------------
req "$B/.well-known/openid-configuration"
check "discovery 200" "$STATUS" 200
check "discovery issuer (trailing slash)" "$(echo "$BODY" | js d.issuer)" "$ISSUER"
check "discovery device endpoint" "$(echo "$BODY" | js d.device_authorization_endpoint)" "${ISSUER}oauth2/device/auth"
check "discovery token endpoint" "$(echo "$BODY" | js d.token_endpoint)" "${ISSUER}oauth2/token"
check "discovery jwks_uri" "$(echo "$BODY" | js d.jwks_uri)" "${ISSUER}.well-known/jwks.json"
check "discovery has no introspection_endpoint (Hydra)" "$(echo "$BODY" | js '"introspection_endpoint" in d')" false
check "discovery id_token algs" "$(echo "$BODY" | js 'd.id_token_signing_alg_values_supported.join()')" "RS256,ES256"
check "discovery: no Cache-Control when DISCOVERY_MAX_AGE is unset" "$(header cache-control)" ""

req "$B/.well-known/jwks.json"
JWKS=$BODY
check "jwks 200" "$STATUS" 200
check "jwks: no Cache-Control when JWKS_MAX_AGE is unset (Hydra sends none)" "$(header cache-control)" ""
check "jwks: RSA RS256 first, then EC ES256" "$(echo "$JWKS" | js 'd.keys.map(k => k.kty + "/" + k.alg + "/" + k.use).join()')" "RSA/RS256/sig,EC/ES256/sig"
check "jwks: RSA modulus is 512 bytes (4096 bit)" "$(echo "$JWKS" | js 'Buffer.from(d.keys[0].n, "base64url").length')" 512
check "jwks: e = AQAB" "$(echo "$JWKS" | js 'd.keys[0].e')" AQAB
check "jwks: member order as Hydra" "$(echo "$JWKS" | js 'Object.keys(d.keys[0]).join()')" "use,kty,kid,alg,n,e"
check "jwks: no private parts" "$(echo "$JWKS" | js 'd.keys.some(k => "d" in k || "p" in k)')" false
for i in 0 1; do check_re "jwks: kid $i is a UUIDv4" "$(echo "$JWKS" | js "d.keys[$i].kid")" "$UUID_RE"; done
RSA_KID=$(echo "$JWKS" | js 'd.keys[0].kid'); EC_KID=$(echo "$JWKS" | js 'd.keys[1].kid')

# --- device authorization, three clients -------------------------------------------------------------
for client in pam-ory-public pam-ory-basic pam-ory-post; do
  device_auth $client --data-urlencode "$SCOPE"
  check "$client device auth 200" "$STATUS" 200
  check_re "$client user_code is Hydra's format" "$UC" "$CODE_RE"
  check "$client interval present (DEVICE_INTERVAL)" "$(echo "$BODY" | js d.interval)" 1
  check "$client verification_uri" "$(echo "$BODY" | js d.verification_uri)" "${ISSUER}oauth2/device/verify"
  check "$client verification_uri_complete" "$VUC" "${ISSUER}oauth2/device/verify?user_code=$UC"
  check_re "$client expires_in" "$(echo "$BODY" | js d.expires_in)" '^(599|600)$'
  check_re "$client device_code looks like ory_dc_<x>.<y>" "$DC" '^ory_dc_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$'
  check "$client content type" "$(header content-type)" "application/json;charset=UTF-8"
done
req "$B/oauth2/device/auth" -u pam-ory-basic:test-secret-basic-0123456789 --data-urlencode "$SCOPE"
check "basic without body client_id -> 400" "$STATUS" 400
check "basic without body client_id -> invalid_request" "$(echo "$BODY" | js d.error)" invalid_request
check_re "... 'Provided client_id mismatch.'" "$(echo "$BODY" | js d.error_description)" 'Provided client_id mismatch\.$'
check "error body has only error + error_description" "$(echo "$BODY" | js 'Object.keys(d).join()')" "error,error_description"
req "$B/oauth2/device/auth" -u pam-ory-basic:test-secret-basic-0123456789 -d client_id=pam-ory-post
check "basic with other body client_id -> 400" "$STATUS" 400
req "$B/oauth2/device/auth" -u pam-ory-basic:wrong-secret -d client_id=pam-ory-basic
check "wrong secret -> 401 invalid_client" "$STATUS/$(echo "$BODY" | js d.error)" "401/invalid_client"
req "$B/oauth2/device/auth" -d client_id=pam-ory-public -d scope=admin
check "scope not allowed -> 400 invalid_scope" "$STATUS/$(echo "$BODY" | js d.error)" "400/invalid_scope"
# Uniformity sanity: 40 codes -> all valid, all distinct, both cases and digits appear.
CODES=$(for _ in $(seq 40); do curl -s "$B/oauth2/device/auth" -d client_id=pam-ory-public -d scope=openid | js d.user_code; echo; done)
check "40 user codes all match the format" "$(echo "$CODES" | grep -cE "$CODE_RE")" 40
check "40 user codes all distinct" "$(echo "$CODES" | sort -u | wc -l)" 40
check "user codes use lower, upper and digits" "$(echo "$CODES" | grep -q '[a-z]' && echo "$CODES" | grep -q '[A-Z]' && echo "$CODES" | grep -q '[0-9]' && echo yes)" yes

# --- pending -> approve -> tokens (public, RS256) ----------------------------------------------------
device_auth pam-ory-public --data-urlencode "$SCOPE"
poll pam-ory-public "$DC"
check "pending poll -> 400 authorization_pending" "$STATUS/$(echo "$BODY" | js d.error)" "400/authorization_pending"
req "$B/test/codes"
check "/test/codes lists the pending code" "$(echo "$BODY" | js "d.codes.some(c => c.user_code === '$UC' && c.client_id === 'pam-ory-public')")" true
WRONG=$(swapcase "$UC")
if [ "$WRONG" != "$UC" ]; then
  req "$B/test/approve" -d user_code="$WRONG"
  check "wrong-case user code not accepted by /test/approve (404)" "$STATUS" 404
fi
req "$B/test/approve" -d user_code="$UC" -d 'claims={"preferred_username":"alice2","unix_user":"alice"}'
check "/test/approve 200" "$STATUS/$(echo "$BODY" | js d.approved)" "200/true"
req "$B/test/approve" -d user_code="$UC"
check "/test/approve again -> 409" "$STATUS" 409
poll pam-ory-public "$DC"
TOK=$BODY
check "approved poll -> 200" "$STATUS" 200
check "token response Cache-Control: no-store" "$(header cache-control)" no-store
check "token response fields" "$(echo "$TOK" | js 'Object.keys(d).sort().join()')" "access_token,expires_in,id_token,refresh_token,scope,token_type"
check "token_type is lowercase bearer" "$(echo "$TOK" | js d.token_type)" bearer
check "granted scope" "$(echo "$TOK" | js d.scope)" "openid offline_access profile email sudo"
check_re "access_token looks like ory_at_" "$(echo "$TOK" | js d.access_token)" '^ory_at_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$'
check_re "refresh_token looks like ory_rt_" "$(echo "$TOK" | js d.refresh_token)" '^ory_rt_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$'
IDT=$(echo "$TOK" | js d.id_token); AT=$(echo "$TOK" | js d.access_token); RT=$(echo "$TOK" | js d.refresh_token)
H=$(jwt 0 "$IDT"); P=$(jwt 1 "$IDT")
check "id_token header" "$H" "{\"alg\":\"RS256\",\"kid\":\"$RSA_KID\",\"typ\":\"JWT\"}"
check "id_token signature verifies with JWKS" "$(verify_jwt "$IDT" "$JWKS")" valid
check "id_token iss" "$(echo "$P" | js d.iss)" "$ISSUER"
check "id_token sub" "$(echo "$P" | js d.sub)" alice
check "id_token aud is an array [client_id]" "$(echo "$P" | js d.aud)" '["pam-ory-public"]'
check_re "id_token jti is a UUID" "$(echo "$P" | js d.jti)" "$UUID_RE"
check_re "id_token sid is a UUID" "$(echo "$P" | js d.sid)" "$UUID_RE"
check "id_token at_hash matches access_token" "$(echo "$P" | js d.at_hash)" "$(at_hash_of "$AT")"
check "id_token has exp iat rat auth_time (numbers)" "$(echo "$P" | js '[d.exp,d.iat,d.rat,d.auth_time].every(Number.isInteger) && d.exp > d.iat')" true
check "id_token acr/amr" "$(echo "$P" | js 'd.acr + JSON.stringify(d.amr)')" '1["pwd"]'
check "id_token has no nonce/azp" "$(echo "$P" | js '"nonce" in d || "azp" in d')" false
check "id_token carries approve claims" "$(echo "$P" | js 'd.preferred_username + "/" + d.unix_user')" "alice2/alice"

req "$B/admin/oauth2/introspect" -d token="$AT"
check "introspect without client auth -> active" "$(echo "$BODY" | js d.active)" true
check "introspect shape" "$(echo "$BODY" | js '[d.sub,d.client_id,d.token_type,d.token_use,JSON.stringify(d.aud),d.iss,d.nbf===d.iat].join("|")')" "alice|pam-ory-public|Bearer|access_token|[]|$ISSUER|true"
req "$B/admin/oauth2/introspect" -d token="$RT"
check "introspect refresh token -> token_use refresh_token" "$(echo "$BODY" | js 'd.active + "/" + d.token_use')" "true/refresh_token"
req "$B/admin/oauth2/introspect" -d token="$AT" -d 'scope=sudo openid'
check "introspect scope=sudo openid (granted) -> active" "$(echo "$BODY" | js d.active)" true
req "$B/admin/oauth2/introspect" -d token="$AT" -d 'scope=sudo admin'
check "introspect scope not granted -> inactive" "$BODY" '{"active":false}'
req "$B/admin/oauth2/introspect" -u pam-ory-basic:test-secret-basic-0123456789 -d token="$AT"
check "introspect ignores client credentials" "$(echo "$BODY" | js d.active)" true
req "$B/admin/oauth2/introspect" -d token=garbage
check "introspect garbage -> {active:false}" "$BODY" '{"active":false}'
req "$B/admin/oauth2/introspect" -X POST -H 'Content-Type: application/x-www-form-urlencoded'
check "introspect empty body -> 400 invalid_request" "$STATUS/$(echo "$BODY" | js d.error)" "400/invalid_request"
req "$B/userinfo" -H "Authorization: Bearer $AT"
check "userinfo with access token" "$STATUS/$(echo "$BODY" | js d.sub)" "200/alice"
req "$B/userinfo" -H "Authorization: Bearer ${AT}x"
check "userinfo with tampered token -> 401" "$STATUS" 401

poll pam-ory-public "$DC"
check "re-poll redeemed code -> 400 invalid_grant" "$STATUS/$(echo "$BODY" | js d.error)" "400/invalid_grant"
req "$B/admin/oauth2/introspect" -d token="$AT"
check "re-poll revoked the grant's tokens (oidc-provider)" "$BODY" '{"active":false}'
poll pam-ory-public "ory_dc_unknown.code"
check "unknown device_code -> 400 invalid_grant" "$STATUS/$(echo "$BODY" | js d.error)" "400/invalid_grant"

# --- basic client: ES256, refresh, revoke ------------------------------------------------------------
device_auth pam-ory-basic --data-urlencode "$SCOPE"
req "$B/test/approve" -d user_code="$UC" -d sub=bob
poll pam-ory-basic "$DC"
check "basic: token 200" "$STATUS" 200
IDT=$(echo "$BODY" | js d.id_token); RT=$(echo "$BODY" | js d.refresh_token)
check "basic: id_token ES256 with the EC kid" "$(jwt 0 "$IDT")" "{\"alg\":\"ES256\",\"kid\":\"$EC_KID\",\"typ\":\"JWT\"}"
check "basic: ES256 signature verifies" "$(verify_jwt "$IDT" "$JWKS")" valid
check "basic: sub/aud" "$(jwt 1 "$IDT" | js 'd.sub + JSON.stringify(d.aud)')" 'bob["pam-ory-basic"]'
SID1=$(jwt 1 "$IDT" | js d.sid)
req "$B/oauth2/token" -u pam-ory-basic:test-secret-basic-0123456789 -d grant_type=refresh_token -d refresh_token="$RT"
check "refresh grant -> 200" "$STATUS" 200
RT2=$(echo "$BODY" | js d.refresh_token); AT2=$(echo "$BODY" | js d.access_token); IDT2=$(echo "$BODY" | js d.id_token)
check "refresh rotates the refresh token" "$([ -n "$RT2" ] && [ "$RT2" != "$RT" ] && echo rotated)" rotated
check "refreshed id_token: same sid, ES256, valid" "$(jwt 1 "$IDT2" | js d.sid)/$(verify_jwt "$IDT2" "$JWKS")" "$SID1/valid"
req "$B/oauth2/token" -u pam-ory-basic:test-secret-basic-0123456789 -d grant_type=refresh_token -d refresh_token="$RT"
check "old refresh token -> 400 invalid_grant" "$STATUS/$(echo "$BODY" | js d.error)" "400/invalid_grant"
# (reusing the old RT revoked the chain in oidc-provider; start a fresh grant for revocation)
device_auth pam-ory-basic --data-urlencode "$SCOPE"
curl -s "$B/test/approve" -d user_code="$UC" >/dev/null
poll pam-ory-basic "$DC"; AT3=$(echo "$BODY" | js d.access_token)
req "$B/oauth2/revoke" -u pam-ory-basic:test-secret-basic-0123456789 -d token="$AT3"
check "revoke -> 200 empty" "$STATUS/$BODY" "200/"
req "$B/admin/oauth2/introspect" -d token="$AT3"
check "revoked token is inactive" "$BODY" '{"active":false}'
req "$B/oauth2/revoke" -d client_id=pam-ory-public -d token=ory_at_nope.nope
check "revoke unknown token -> 200" "$STATUS" 200

# --- post client: partial scope grant ----------------------------------------------------------------
device_auth pam-ory-post --data-urlencode "$SCOPE"
req "$B/test/approve" -d user_code="$UC" -d scope=openid
poll pam-ory-post "$DC"
check "post: token 200 with only openid" "$STATUS/$(echo "$BODY" | js d.scope)" "200/openid"
check "post: no refresh_token without offline_access" "$(echo "$BODY" | js '"refresh_token" in d')" false
check "post: RS256 id_token valid" "$(verify_jwt "$(echo "$BODY" | js d.id_token)" "$JWKS")" valid

# --- deny, expire, slow-down -------------------------------------------------------------------------
device_auth pam-ory-public --data-urlencode "$SCOPE"
req "$B/test/deny" -d user_code="$UC"
check "/test/deny 200" "$STATUS" 200
poll pam-ory-public "$DC"
check "denied -> 403 access_denied" "$STATUS/$(echo "$BODY" | js d.error)" "403/access_denied"

device_auth pam-ory-public --data-urlencode "$SCOPE"; DC_A=$DC; UC_A=$UC
device_auth pam-ory-public --data-urlencode "$SCOPE"; DC_B=$DC; UC_B=$UC
curl -s "$B/test/approve" -d user_code="$UC_B" >/dev/null
req "$B/test/expire" -d user_code="$UC_A"; check "/test/expire 200" "$STATUS" 200
curl -s "$B/test/expire" -d user_code="$UC_B" >/dev/null
poll pam-ory-public "$DC_A"
check "expired + never approved -> authorization_pending (Hydra quirk)" "$STATUS/$(echo "$BODY" | js d.error)" "400/authorization_pending"
poll pam-ory-public "$DC_A"
check "... and again" "$(echo "$BODY" | js d.error)" authorization_pending
poll pam-ory-public "$DC_B"
check "expired + approved -> 400 expired_token" "$STATUS/$(echo "$BODY" | js d.error)" "400/expired_token"
req "$B/test/approve" -d user_code="$UC_A"
check "/test/approve on expired code -> 410" "$STATUS" 410

device_auth pam-ory-public --data-urlencode "$SCOPE"
req "$B/test/slow-down" -d count=2
check "/test/slow-down 200" "$STATUS" 200
poll pam-ory-public "$DC"; S1="$STATUS/$(echo "$BODY" | js d.error)"
poll pam-ory-public "$DC"; S2="$STATUS/$(echo "$BODY" | js d.error)"
poll pam-ory-public "$DC"; S3="$STATUS/$(echo "$BODY" | js d.error)"
check "slow-down count=2 -> two slow_down polls, then pending" "$S1 $S2 $S3" "400/slow_down 400/slow_down 400/authorization_pending"

# --- tampered ID tokens ------------------------------------------------------------------------------
tampered() { # MODE -> sets TIDT
  device_auth pam-ory-public --data-urlencode "$SCOPE"
  curl -s "$B/test/approve" -d user_code="$UC" -d tamper="$1" >/dev/null
  poll pam-ory-public "$DC"; TIDT=$(echo "$BODY" | js d.id_token)
}
tampered signature; check "tamper=signature -> signature invalid" "$(verify_jwt "$TIDT" "$JWKS")" invalid
tampered expired; check "tamper=expired -> exp in the past, signature valid" "$(jwt 1 "$TIDT" | js 'd.exp < Date.now() / 1000')/$(verify_jwt "$TIDT" "$JWKS")" "true/valid"
tampered issuer; check "tamper=issuer -> other iss" "$(jwt 1 "$TIDT" | js "d.iss !== '$ISSUER'")" true
tampered audience; check "tamper=audience -> aud without client" "$(jwt 1 "$TIDT" | js "d.aud.includes('pam-ory-public')")" false
req "$B/test/approve" -d user_code=whatever -d tamper=bogus
check "unknown tamper mode -> 400" "$STATUS" 400

# --- key rotation ------------------------------------------------------------------------------------
req "$B/test/rotate-key" -X POST
NEW_KID=$(echo "$BODY" | js d.kid)
check_re "rotate-key returns a UUID kid" "$NEW_KID" "$UUID_RE"
req "$B/.well-known/jwks.json"; JWKS=$BODY
check "after rotation: new key first, old ones kept" "$(echo "$JWKS" | js 'd.keys.map(k => k.kid).join()')" "$NEW_KID,$RSA_KID,$EC_KID"
check "new key is RSA 4096 RS256" "$(echo "$JWKS" | js 'd.keys[0].alg + "/" + Buffer.from(d.keys[0].n, "base64url").length')" "RS256/512"
device_auth pam-ory-public --data-urlencode "$SCOPE"; curl -s "$B/test/approve" -d user_code="$UC" >/dev/null; poll pam-ory-public "$DC"
IDT=$(echo "$BODY" | js d.id_token)
check "new ID tokens use the new kid and verify" "$(jwt 0 "$IDT" | js d.kid)/$(verify_jwt "$IDT" "$JWKS")" "$NEW_KID/valid"
req "$B/test/rotate-key" -d drop_old=1; NEWER_KID=$(echo "$BODY" | js d.kid)
req "$B/.well-known/jwks.json"
check "rotate-key drop_old=1 keeps only the newest RSA key (+EC)" "$(echo "$BODY" | js 'd.keys.map(k => k.kid).join()')" "$NEWER_KID,$EC_KID"

# --- JWT access tokens (pam-ory-jwt, Hydra's access_token_strategy=jwt) -----------------------------
req "$B/.well-known/jwks.json"; JWKS=$BODY; CUR_KID=$(echo "$JWKS" | js 'd.keys[0].kid')
approved_tokens pam-ory-jwt alice -d 'ext={"unix_user":"alice","groups":["wheel"]}' -d acr=aal2 -d amr=pwd,otp -d auth_time=1700000000
JAT=$AT; JRT=$RT; JIDT=$IDT
check "jwt client: token_type bearer, refresh + id token too" "$(echo "$BODY" | js 'd.token_type + "/" + ("refresh_token" in d) + "/" + ("id_token" in d)')" "bearer/true/true"
check "jwt access token header" "$(jwt 0 "$JAT")" "{\"alg\":\"RS256\",\"kid\":\"$CUR_KID\",\"typ\":\"JWT\"}"
check "jwt access token signature verifies with JWKS" "$(verify_jwt "$JAT" "$JWKS")" valid
JP=$(jwt 1 "$JAT")
check "jwt access token claims (names, order)" "$(echo "$JP" | js 'Object.keys(d).join()')" "iss,sub,aud,exp,iat,nbf,jti,client_id,scp,ext"
check "jwt access token iss/sub/aud/client_id" "$(echo "$JP" | js '[d.iss, d.sub, JSON.stringify(d.aud), d.client_id].join("|")')" "$ISSUER|alice|[]|pam-ory-jwt"
check "jwt access token scp is the granted scope array" "$(echo "$JP" | js 'JSON.stringify(d.scp)')" '["openid","offline_access","profile","email","sudo"]'
check "jwt access token nbf = iat, exp = iat + 3600" "$(echo "$JP" | js 'd.nbf === d.iat && d.exp === d.iat + 3600')" true
check_re "jwt access token jti is a UUID" "$(echo "$JP" | js d.jti)" "$UUID_RE"
check "jwt access token ext = approve ext" "$(echo "$JP" | js 'JSON.stringify(d.ext)')" '{"unix_user":"alice","groups":["wheel"]}'
check "id_token at_hash is over the JWT access token" "$(jwt 1 "$JIDT" | js d.at_hash)" "$(at_hash_of "$JAT")"
check "approve acr/amr/auth_time reach the ID token" "$(jwt 1 "$JIDT" | js 'd.acr + JSON.stringify(d.amr) + d.auth_time')" 'aal2["pwd","otp"]1700000000'
req "$B/admin/oauth2/introspect" -d token="$JAT"
check "jwt access token introspects (stored server-side)" "$(echo "$BODY" | js '[d.active, d.client_id, d.sub, d.token_use, d.exp].join("|")')" "true|pam-ory-jwt|alice|access_token|$(echo "$JP" | js d.exp)"
check "introspection ext = approve ext" "$(echo "$BODY" | js 'JSON.stringify(d.ext)')" '{"unix_user":"alice","groups":["wheel"]}'
req "$B/userinfo" -H "Authorization: Bearer $JAT"
check "userinfo accepts the jwt access token" "$STATUS/$(echo "$BODY" | js d.sub)" "200/alice"
req "$B/oauth2/token" -d client_id=pam-ory-jwt -d grant_type=refresh_token -d refresh_token="$JRT"
JAT2=$(echo "$BODY" | js d.access_token); JRT2=$(echo "$BODY" | js d.refresh_token)
check "jwt refresh: new valid JWT access token, same ext" "$(verify_jwt "$JAT2" "$JWKS")/$(jwt 1 "$JAT2" | js 'd.ext.unix_user')/$(active "$JAT2")" "valid/alice/true"
req "$B/oauth2/revoke" -d client_id=pam-ory-jwt -d token="$JAT2"
check "revoke jwt access token -> 200, then inactive (and its refresh token)" "$STATUS/$(active "$JAT2")/$(active "$JRT2")" "200/false/false"
check "a JWT that is not ours (ID token) introspects inactive" "$(active "$JIDT")" false
approved_tokens pam-ory-public alice -d 'ext={"unix_user":"alice"}'
check "opaque client: introspection ext = approve ext" "$(curl -s "$B/admin/oauth2/introspect" -d token="$AT" | js 'JSON.stringify(d.ext)')" '{"unix_user":"alice"}'
approved_tokens pam-ory-public alice
check "no ext approved -> no ext in introspection (omitempty)" "$(curl -s "$B/admin/oauth2/introspect" -d token="$AT" | js '"ext" in d')" false
check "default acr 1, amr [pwd], auth_time = approval time" "$(jwt 1 "$IDT" | js 'd.acr + JSON.stringify(d.amr) + (Math.abs(d.auth_time - Date.now() / 1000) < 5)')" '1["pwd"]true'
req "$B/test/approve" -d user_code=whatever -d ext='[1]'
check "approve ext not an object -> 400" "$STATUS" 400
req "$B/test/approve" -d user_code=whatever -d auth_time=yesterday
check "approve auth_time not an integer -> 400" "$STATUS" 400
req "$B/test/approve" -d user_code=whatever -d remember=yes
check "approve remember not true/false -> 400" "$STATUS" 400

jwt_tampered() { # MODE -> sets TAT (the JWT access token of an approval with tamper=MODE)
  approved_tokens pam-ory-jwt alice -d tamper="$1"; TAT=$AT
}
jwt_tampered signature
check "jwt tamper=signature -> invalid, introspects inactive" "$(verify_jwt "$TAT" "$JWKS")/$(active "$TAT")" "invalid/false"
jwt_tampered expired
check "jwt tamper=expired -> exp past, valid signature, inactive" "$(jwt 1 "$TAT" | js 'd.exp < Date.now() / 1000 && d.nbf === d.iat')/$(verify_jwt "$TAT" "$JWKS")/$(active "$TAT")" "true/valid/false"
jwt_tampered issuer
check "jwt tamper=issuer -> other iss, valid signature" "$(jwt 1 "$TAT" | js "d.iss !== '$ISSUER'")/$(verify_jwt "$TAT" "$JWKS")" "true/valid"
jwt_tampered audience
check "jwt tamper=audience -> aud/client_id someone-else" "$(jwt 1 "$TAT" | js 'JSON.stringify(d.aud) + d.client_id')/$(verify_jwt "$TAT" "$JWKS")" '["someone-else"]someone-else/valid'

# --- introspect-next (canned introspection answers) --------------------------------------------------
CANNED='{"active":"true","sub":"alice"}'
req "$B/test/introspect-next" --data-urlencode "body=$CANNED" -d count=2
check "/test/introspect-next 200" "$STATUS/$BODY" '200/{"introspect_next":2}'
approved_tokens pam-ory-public alice
req "$B/admin/oauth2/introspect" -d token="$AT"; C1="$STATUS $BODY"
req "$B/admin/oauth2/introspect" -d token=garbage; C2="$STATUS $BODY"
check "introspect-next: next 2 introspections answer the canned body verbatim" "$C1|$C2|$(header content-type)" "200 $CANNED|200 $CANNED|application/json;charset=UTF-8"
check "introspect-next: then real answers again" "$(active "$AT")" true
curl -s "$B/test/introspect-next" --data-urlencode 'body={"active":true}' -d count=5 >/dev/null
req "$B/test/introspect-next" -d clear=1
check "introspect-next clear=1 drops pending answers" "$STATUS/$(active garbage)" "200/false"
req "$B/test/introspect-next" -d count=1
check "introspect-next without body -> 400" "$STATUS" 400

# --- consent sessions --------------------------------------------------------------------------------
CS="$B/admin/oauth2/auth/sessions/consent"
approved_tokens pam-ory-basic frank -d 'ext={"unix_user":"frank"}' -d 'claims={"preferred_username":"frank2"}' -d acr=aal2 -d amr=pwd,hwk -d remember=true -d remember_for=3600
FRANK_CID=$CID; FRANK_SID=$(jwt 1 "$IDT" | js d.sid)
check_re "approve returns a consent_request_id (UUID)" "$FRANK_CID" "$UUID_RE"
req "$CS?subject=frank"
check "consent list 200, one row" "$STATUS/$(echo "$BODY" | js d.length)" "200/1"
ROW=$(echo "$BODY" | js 'd[0]')
check "consent row fields" "$(echo "$ROW" | js 'Object.keys(d).join()')" "consent_request_id,grant_scope,grant_access_token_audience,session,remember,remember_for,handled_at,context,consent_request"
check "consent row values" "$(echo "$ROW" | js '[d.consent_request_id, d.grant_scope.join(" "), JSON.stringify(d.grant_access_token_audience), d.remember, d.remember_for, JSON.stringify(d.context)].join("|")')" "$FRANK_CID|openid offline_access profile email sudo|[]|true|3600|{}"
check "consent session = {access_token: ext, id_token: claims}" "$(echo "$ROW" | js 'JSON.stringify(d.session)')" '{"access_token":{"unix_user":"frank"},"id_token":{"preferred_username":"frank2"}}'
check_re "handled_at is RFC 3339 (UTC, seconds)" "$(echo "$ROW" | js d.handled_at)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'
check "handled_at is the approval time" "$(echo "$ROW" | js 'Math.abs(Date.parse(d.handled_at) / 1000 - Date.now() / 1000) < 10')" true
CR=$(echo "$ROW" | js d.consent_request)
check "consent_request fields" "$(echo "$CR" | js 'Object.keys(d).join()')" "challenge,consent_request_id,requested_scope,requested_access_token_audience,skip,subject,oidc_context,client,request_url,login_challenge,login_session_id,acr,amr"
check "consent_request values" "$(echo "$CR" | js '[JSON.stringify(d.challenge), d.consent_request_id, d.requested_scope.join(" "), d.skip, d.subject, JSON.stringify(d.oidc_context), d.request_url].join("|")')" "\"\"|$FRANK_CID|openid offline_access profile email sudo|false|frank|{}|${ISSUER}oauth2/device/verify?client_id=pam-ory-basic"
check "consent_request login_session_id = ID token sid; acr/amr" "$(echo "$CR" | js 'd.login_session_id + d.acr + JSON.stringify(d.amr)')" "${FRANK_SID}aal2[\"pwd\",\"hwk\"]"
check "consent_request.client: no secret" "$(echo "$CR" | js '[d.client.client_id, d.client.token_endpoint_auth_method, d.client.scope, "client_secret" in d.client].join("|")')" "pam-ory-basic|client_secret_basic|openid offline_access profile email sudo|false"
check "consent list Link: rel=first only, Hydra's path-relative URL" "$(header link | sed 's/page_token=[^&>]*/page_token=T/g')" '</admin/oauth2/auth/sessions/consent?page_size=100&page_token=T&subject=frank>; rel="first"'
req "$CS?subject=frank&login_session_id=$FRANK_SID"
check "login_session_id filter: matching sid" "$(echo "$BODY" | js d.length)" 1
req "$CS?subject=frank&login_session_id=other"
check "login_session_id filter: other sid -> []" "$BODY" "[]"

# pagination over 3 consents of a fresh subject
for c in pam-ory-public pam-ory-post pam-ory-jwt; do
  req "$B/test/consent" -d subject=carol -d client_id=$c -d 'grant_scope=openid sudo'
  check_re "/test/consent ($c) -> consent_request_id" "$STATUS $(echo "$BODY" | js d.consent_request_id)" "^200 ${UUID_RE:1}"
done
req "$CS?subject=carol"; ALL=$(echo "$BODY" | js 'd.map(r => r.consent_request_id).join()')
check "carol: 3 rows, all hers, remember default true" "$(echo "$BODY" | js 'd.length + "/" + d.every(r => r.consent_request.subject === "carol" && r.remember === true && r.remember_for === 0)')" "3/true"
check "carol's list doesn't show frank's or alice's consents (subject isolation)" "$(echo "$BODY" | js "d.some(r => ['$FRANK_CID'].includes(r.consent_request_id))")" false
req "$CS?subject=carol&page_size=1"; PAGES=0; SEEN=""
FIRST=$(link_url first)
check "page_size=1 first page: Link rel=first + rel=next" "$(echo "$FIRST" | grep -c '^/admin/oauth2/auth/sessions/consent?page_size=1&page_token=[A-Za-z0-9_.-]*&subject=carol$')/$([ -n "$(link_url next)" ] && echo next)" "1/next"
while :; do
  PAGES=$((PAGES + 1)); SEEN="$SEEN${SEEN:+,}$(echo "$BODY" | js 'd.map(r => r.consent_request_id).join()')"
  NEXT=$(link_url next); [ -z "$NEXT" ] || [ $PAGES -gt 5 ] && break
  req "$B$NEXT"
done
check "following rel=next: 3 pages of 1, then no next" "$PAGES" 3
check "... the pages together are the full list, in the same order" "$SEEN" "$ALL"
check "... the last page still has rel=first" "$([ -n "$(link_url first)" ] && echo yes)" yes
req "$B$FIRST"
check "rel=first leads back to the first page" "$(echo "$BODY" | js 'd[0].consent_request_id')" "${ALL%%,*}"
req "$CS?subject=carol&page_size=0"
check "page_size=0 -> default 100" "$(echo "$BODY" | js d.length)/$(link_url first | grep -o 'page_size=[0-9]*')" "3/page_size=100"
req "$CS?subject=carol&page_size=9999"
check "page_size above 500 -> 500" "$(link_url first | grep -o 'page_size=[0-9]*')" "page_size=500"
req "$CS?subject=carol&page_token=forged.token"
check "bad page_token -> 400 invalid_request" "$STATUS/$(echo "$BODY" | js d.error)" "400/invalid_request"
req "$CS"
check "missing subject -> 400 invalid_request" "$STATUS/$(echo "$BODY" | js d.error)" "400/invalid_request"
req "$CS?subject=nobody-at-all"
check "no consents -> 200 [] without Link header" "$STATUS/$BODY/$(header link)" "200/[]/"

# expiry: requested_at + remember_for <= now hides a row (Hydra's generated expires_at)
# (remember_for=1 is not checked before the sleep: with whole-second times it may already be over)
curl -s "$B/test/consent" -d subject=dave -d client_id=pam-ory-basic -d remember_for=3600 -d requested_at=$(( $(date +%s) - 3600 )) >/dev/null
curl -s "$B/test/consent" -d subject=dave -d client_id=pam-ory-public -d remember_for=1 >/dev/null
curl -s "$B/test/consent" -d subject=dave -d client_id=pam-ory-post -d remember=false >/dev/null
curl -s "$B/test/consent" -d subject=dave -d client_id=pam-ory-jwt -d remember_for=600 >/dev/null
sleep 2
req "$CS?subject=dave"
check "hidden: remember_for=3600 requested an hour ago, remember_for=1 after 2 s; listed: remember=false + remember_for=0 (for ever), remember_for=600" \
  "$(echo "$BODY" | js 'd.map(r => r.consent_request.client.client_id + ":" + r.remember + ":" + r.remember_for).join()')" "pam-ory-post:false:0,pam-ory-jwt:true:600"
req "$B/test/consent" -d subject=dave -d client_id=hydra-admin-introspector
check "/test/consent with an unknown client -> 400" "$STATUS" 400
req "$B/test/consent" -d client_id=pam-ory-public
check "/test/consent without subject -> 400" "$STATUS" 400
req "$B/test/consent" -d subject=dave -d client_id=pam-ory-public -d handled_at=1700000000
check "/test/consent handled_at" "$(curl -s "$CS?subject=dave" | js 'd.at(-1).handled_at')" "2023-11-14T22:13:20Z"

# revocation: each accepted combination -> 204 and the tokens of those consents are dead
approved_tokens pam-ory-public erin; E_AT1=$AT; E_RT1=$RT; E_CID1=$CID
approved_tokens pam-ory-post erin; E_AT2=$AT; E_RT2=$RT
approved_tokens pam-ory-jwt erin; E_AT3=$AT; E_RT3=$RT
approved_tokens pam-ory-public grace; G_AT=$AT
check "erin: 3 consents, all tokens active" "$(curl -s "$CS?subject=erin" | js d.length)/$(active "$E_AT1")/$(active "$E_AT2")/$(active "$E_AT3")" "3/true/true/true"
req -X DELETE "$CS?consent_request_id=$E_CID1"
check "DELETE ?consent_request_id -> 204 empty" "$STATUS/$BODY" "204/"
check "... its access + refresh token inactive, others active" "$(active "$E_AT1")/$(active "$E_RT1")/$(active "$E_AT2")/$(active "$E_AT3")" "false/false/true/true"
check "... the row is gone" "$(curl -s "$CS?subject=erin" | js "d.length + '/' + d.some(r => r.consent_request_id === '$E_CID1')")" "2/false"
req -X DELETE "$CS?subject=erin&client=pam-ory-post"
check "DELETE ?subject&client -> 204 empty" "$STATUS/$BODY" "204/"
check "... that client's tokens inactive, the JWT client's active" "$(active "$E_AT2")/$(active "$E_RT2")/$(active "$E_AT3")" "false/false/true"
req -X DELETE "$CS?subject=erin&all=true"
check "DELETE ?subject&all=true -> 204 empty" "$STATUS/$BODY" "204/"
check "... all of erin's tokens inactive (JWT too), list empty" "$(active "$E_AT3")/$(active "$E_RT3")/$(curl -s "$CS?subject=erin")" "false/false/[]"
check "... other subjects untouched" "$(active "$G_AT")" true
req -X DELETE "$CS?consent_request_id=00000000-0000-4000-8000-000000000000"
check "DELETE matching nothing -> 204" "$STATUS/$BODY" "204/"
for q in "" "subject=grace" "client=pam-ory-public" "all=true" "subject=grace&all=false" \
  "subject=grace&client=pam-ory-public&all=true" "consent_request_id=x&subject=grace" "consent_request_id=x&client=pam-ory-public"; do
  req -X DELETE "$CS?$q"
  check "DELETE ?$q -> 400 invalid_request" "$STATUS/$(echo "$BODY" | js 'd.error + " " + d.error_description.endsWith("Invalid combination of query parameters.")')" "400/invalid_request true"
done
check "invalid DELETEs revoked nothing" "$(active "$G_AT")" true

# --- stats + issued ----------------------------------------------------------------------------------
curl -s -X POST "$B/test/stats/reset" >/dev/null
curl -s "$B/.well-known/openid-configuration" >/dev/null; curl -s "$B/.well-known/jwks.json" >/dev/null; curl -s "$B/.well-known/jwks.json" >/dev/null
device_auth pam-ory-public -d scope=openid; poll pam-ory-public "$DC"
curl -s "$B/admin/oauth2/introspect" -d token=x >/dev/null; curl -s "$B/oauth2/revoke" -d client_id=pam-ory-public -d token=x >/dev/null; curl -s "$B/userinfo" >/dev/null
curl -s "$B/admin/oauth2/auth/sessions/consent?subject=nobody" >/dev/null; curl -s "$B/admin/oauth2/auth/sessions/consent?subject=nobody" >/dev/null
curl -s -X DELETE "$B/admin/oauth2/auth/sessions/consent?subject=nobody&all=true" >/dev/null
req "$B/test/stats"
check "/test/stats counts" "$BODY" '{"discovery":1,"jwks":2,"device_auth":1,"token":1,"introspect":1,"revoke":1,"userinfo":1,"consent_list":2,"consent_revoke":1}'
req "$B/test/issued"
ISSUED=$BODY
for s in "$AT2" "$RT2" "$IDT" "${IDT##*.}" "$DC_A" "$JAT" "$JAT2" test-secret-basic-0123456789 test-secret-post-0123456789; do
  check "/test/issued contains ${s:0:20}…" "$(echo "$ISSUED" | js "d.secrets.includes('$s')")" true
done

# --- browser flow (devInteractions) with curl + cookie jar -------------------------------------------
J="$TMP/cookies"
device_auth pam-ory-public --data-urlencode "$SCOPE"
xsrf() { curl -s -c "$J" -b "$J" "$B/oauth2/device/verify" | sed -n 's/.*name="xsrf" value="\([^"]*\)".*/\1/p'; }
req "$VUC" -c "$J" -b "$J"
check "verification_uri_complete auto-posts the code" "$(echo "$BODY" | grep -c "name=\"user_code\" value=\"$UC\"")" 1
WRONG=$(swapcase "$UC")
if [ "$WRONG" != "$UC" ]; then
  X=$(xsrf)
  check "browser: wrong-case code rejected" "$(curl -s -c "$J" -b "$J" "$B/oauth2/device/verify" -d xsrf="$X" --data-urlencode user_code="$WRONG" | grep -c 'incorrect')" 1
fi
X=$(xsrf)
check "browser: confirm page shows the exact code" "$(curl -s -c "$J" -b "$J" "$B/oauth2/device/verify" -d xsrf="$X" --data-urlencode user_code="$UC" | grep -c "<code>$UC</code>")" 1
LOGIN=$(curl -s -c "$J" -b "$J" -o /dev/null -w '%{redirect_url}' "$B/oauth2/device/verify" -d xsrf="$X" --data-urlencode user_code="$UC" -d confirm=yes)
CONSENT=$(curl -s -c "$J" -b "$J" -L -o /dev/null -w '%{url_effective}' "$LOGIN" -d prompt=login -d login=alice -d password=anything)
check "browser: login + consent -> Sign-in Success" "$(curl -s -c "$J" -b "$J" -L "$CONSENT" -d prompt=consent | grep -o '<h1>[^<]*</h1>')" "<h1>Sign-in Success</h1>"
poll pam-ory-public "$DC"
check "browser: token for alice" "$STATUS/$(jwt 1 "$(echo "$BODY" | js d.id_token)" | js d.sub)" "200/alice"
check "browser: refresh_token issued" "$(echo "$BODY" | js '"refresh_token" in d')" true
BROWSER_SID=$(jwt 1 "$(echo "$BODY" | js d.id_token)" | js d.sid); BROWSER_AT=$(echo "$BODY" | js d.access_token)
req "$B/admin/oauth2/auth/sessions/consent?subject=alice&login_session_id=$BROWSER_SID"
check "browser: approval recorded as a consent session (remember false)" "$(echo "$BODY" | js 'd.length + "/" + d[0].consent_request.client.client_id + "/" + d[0].remember')" "1/pam-ory-public/false"
curl -s -X DELETE "$B/admin/oauth2/auth/sessions/consent?consent_request_id=$(echo "$BODY" | js 'd[0].consent_request_id')" >/dev/null
check "browser: revoking that consent kills its token" "$(active "$BROWSER_AT")" false

# =====================================================================================================
# Real expiry (DEVICE_CODE_TTL=2), default interval, KEYS_FILE reuse.
start_server ttl PORT=0 DEVICE_CODE_TTL=2 KEYS_FILE="$TMP/keys.json"
req "$B/.well-known/jwks.json"
check "KEYS_FILE reused: same RSA kid" "$(echo "$BODY" | js 'd.keys[0].kid')" "$RSA_KID"
device_auth pam-ory-public --data-urlencode "$SCOPE"; DC_A=$DC; UC_A=$UC
check "default interval is 5" "$(echo "$BODY" | js d.interval)" 5
check "expires_in follows DEVICE_CODE_TTL" "$(echo "$BODY" | js d.expires_in)" 2
device_auth pam-ory-public --data-urlencode "$SCOPE"; DC_B=$DC
curl -s "$B/test/approve" -d user_code="$UC" >/dev/null
sleep 3
poll pam-ory-public "$DC_A"
check "TTL passed, never approved -> authorization_pending" "$STATUS/$(echo "$BODY" | js d.error)" "400/authorization_pending"
poll pam-ory-public "$DC_B"
check "TTL passed, approved -> expired_token" "$STATUS/$(echo "$BODY" | js d.error)" "400/expired_token"
req "$B/test/approve" -d user_code="$UC_A"
check "approve after TTL -> 410" "$STATUS" 410

# =====================================================================================================
# Ory-Network-style admin authentication (ADMIN_TOKEN), cache headers, consent-list page size and
# absolute Link URLs.
ADMIN_TOKEN=ory_pat_smoke-0123456789
start_server admin PORT=0 ADMIN_TOKEN=$ADMIN_TOKEN DISCOVERY_MAX_AGE=300 JWKS_MAX_AGE=600 CONSENT_PAGE_SIZE=1 \
  ABSOLUTE_LINKS=1 KEYS_FILE="$TMP/keys.json"
req "$B/.well-known/openid-configuration"
check "DISCOVERY_MAX_AGE=300 -> Cache-Control on discovery" "$STATUS/$(header cache-control)" "200/public, max-age=300"
req "$B/.well-known/oauth-authorization-server"
check "... also on the oauth-authorization-server alias" "$(header cache-control)" "public, max-age=300"
req "$B/.well-known/jwks.json"
check "JWKS_MAX_AGE=600 -> Cache-Control on the JWKS" "$STATUS/$(header cache-control)" "200/public, max-age=600"
approved_tokens pam-ory-public alice
check "ADMIN_TOKEN: public endpoints and /test/* need no token" "$(echo "$AT" | grep -c '^ory_at_')" 1
UNAUTHORIZED='{"error":"The request could not be authorized","error_description":""}'
req "$B/admin/oauth2/introspect" -d token="$AT"
check "introspect without bearer -> 401 herodot body" "$STATUS $BODY" "401 $UNAUTHORIZED"
req "$B/admin/oauth2/introspect" -H "Authorization: Bearer wrong" -d token="$AT"
check "introspect with a wrong bearer -> 401" "$STATUS $BODY" "401 $UNAUTHORIZED"
req "$B/admin/oauth2/introspect" -H "Authorization: Bearer ${ADMIN_TOKEN}x" -d token="$AT"
check "introspect with a longer bearer -> 401 (exact match)" "$STATUS" 401
req "$B/admin/oauth2/introspect" -u "$ADMIN_TOKEN:" -d token="$AT"
check "introspect with Basic instead of Bearer -> 401" "$STATUS" 401
check "introspect with the right bearer -> active" "$(active "$AT" -H "Authorization: Bearer $ADMIN_TOKEN")" true
req "$B/admin/oauth2/auth/sessions/consent?subject=alice"
check "consent list without bearer -> 401" "$STATUS $BODY" "401 $UNAUTHORIZED"
req "$B/admin/oauth2/auth/sessions/consent?subject=alice" -H "Authorization: Bearer wrong"
check "consent list with a wrong bearer -> 401" "$STATUS" 401
req "$B/admin/oauth2/auth/sessions/consent?subject=alice" -H "Authorization: Bearer $ADMIN_TOKEN"
check "consent list with the right bearer -> 200, one row" "$STATUS/$(echo "$BODY" | js d.length)" "200/1"
req -X DELETE "$B/admin/oauth2/auth/sessions/consent?subject=alice&all=true"
check "consent DELETE without bearer -> 401, token still active" "$STATUS/$(active "$AT" -H "Authorization: Bearer $ADMIN_TOKEN")" "401/true"
req -X DELETE "$B/admin/oauth2/auth/sessions/consent?subject=alice&all=true" -H "Authorization: Bearer $ADMIN_TOKEN"
check "consent DELETE with the right bearer -> 204" "$STATUS" 204
curl -s "$B/test/consent" -d subject=henry -d client_id=pam-ory-public >/dev/null
curl -s "$B/test/consent" -d subject=henry -d client_id=pam-ory-post >/dev/null
req "$B/admin/oauth2/auth/sessions/consent?subject=henry" -H "Authorization: Bearer $ADMIN_TOKEN"
NEXT=$(link_url next)
check "CONSENT_PAGE_SIZE=1: one row per page when no page_size is sent" "$(echo "$BODY" | js d.length)/$(link_url first | grep -o 'page_size=[0-9]*')" "1/page_size=1"
check "ABSOLUTE_LINKS=1: Link URLs carry the origin" "$(echo "$NEXT" | grep -c "^${B}/admin/oauth2/auth/sessions/consent?page_size=1&page_token=")" 1
req "$NEXT" -H "Authorization: Bearer $ADMIN_TOKEN"
check "... following the absolute next URL: last page" "$STATUS/$(echo "$BODY" | js 'd[0].consent_request.client.client_id')/$(link_url next)" "200/pam-ory-post/"
req "$B/test/introspect-next" --data-urlencode 'body={"active":true}'
req "$B/admin/oauth2/introspect" -d token="$AT"
check "the bearer check comes before introspect-next answers" "$STATUS" 401
check "... which then still answers (authorized)" "$(curl -s "$B/admin/oauth2/introspect" -H "Authorization: Bearer $ADMIN_TOKEN" -d token=x)" '{"active":true}'

# =====================================================================================================
# TLS with a self-signed certificate for 127.0.0.1.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$TMP/tls.key" -out "$TMP/tls.crt" 2>/dev/null
start_server tls PORT=0 TLS_CERT="$TMP/tls.crt" TLS_KEY="$TMP/tls.key" KEYS_FILE="$TMP/keys.json"
check_re "TLS issuer is https://127.0.0.1:PORT/" "$ISSUER" '^https://127\.0\.0\.1:[0-9]+/$'
req --cacert "$TMP/tls.crt" "$B/.well-known/openid-configuration"
check "TLS discovery via --cacert" "$STATUS/$(echo "$BODY" | js d.issuer)" "200/$ISSUER"
check "TLS endpoints are https" "$(echo "$BODY" | js d.device_authorization_endpoint)" "${ISSUER}oauth2/device/auth"
device_auth pam-ory-public --cacert "$TMP/tls.crt" --data-urlencode "$SCOPE"
check "TLS verification_uri is https" "$(echo "$BODY" | js d.verification_uri)" "${ISSUER}oauth2/device/verify"
curl -s --cacert "$TMP/tls.crt" "$B/test/approve" -d user_code="$UC" >/dev/null
STATUS=$(curl -s --cacert "$TMP/tls.crt" -o "$TMP/body" -w '%{http_code}' "$B/oauth2/token" -d client_id=pam-ory-public -d grant_type=$DEVICE_GRANT -d device_code="$DC")
check "TLS token 200 with iss https" "$STATUS/$(jwt 1 "$(js d.id_token < "$TMP/body")" | js d.iss)" "200/$ISSUER"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' "$B/.well-known/jwks.json")
check "TLS without the CA is refused by curl" "$STATUS" 000

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
