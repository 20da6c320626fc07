'use strict';
// The thin SMART adapter: what SMART App Launch needs that neither library provides, and no
// more. FHIR requests are answered by Medplum's router unchanged apart from absolute URLs in
// search Bundles (Medplum's server adds those itself; its router leaves them to the host).
const { members } = require('./accounts');

const FHIR_JSON = 'application/fhir+json; charset=utf-8';

// resourceScopes lists the SMART resource scopes the FHIR engine accepts (read/search only: the
// Patient Access API is read-only), in SMART 2.0 and 1.0 syntax, for every loaded type and *.
function resourceScopes(types) {
  const out = [];
  for (const ctx of ['patient', 'user']) {
    for (const t of ['*', ...types]) for (const p of ['rs', 'r', 's', 'read']) out.push(`${ctx}/${t}.${p}`);
  }
  return out;
}

// allows reports whether the granted scopes permit a read (want 'r') or search (want 's') of type.
function allows(scopes, type, want) {
  for (const s of scopes) {
    const m = /^(patient|user)\/([A-Za-z*]+)\.(read|[cruds]+)$/.exec(s);
    if (!m || (m[2] !== '*' && m[2] !== type)) continue;
    if (m[3] === 'read' || m[3].includes(want)) return true;
  }
  return false;
}

// attachToProvider adds the SMART parts of the OAuth exchange to oidc-provider:
// - `patient` in the token response (SMART: "patient … returned when launch/patient was granted");
// - offline_access honoured without prompt=consent: OpenID Connect Core 11 drops it otherwise,
//   which oidc-provider does, but a SMART app asks for offline_access alone to get a refresh token.
function attachToProvider(provider) {
  provider.use(async (ctx, next) => {
    if (ctx.method === 'GET' && ctx.path === '/auth') {
      const q = new URLSearchParams(ctx.querystring);
      const scopes = (q.get('scope') || '').split(' ');
      if (scopes.includes('offline_access') && !q.has('prompt')) {
        q.set('prompt', 'consent');
        ctx.querystring = q.toString();
      }
    }
    await next();
    if (ctx.path === '/token' && ctx.status === 200 && ctx.body && ctx.body.access_token) {
      const at = await provider.AccessToken.find(ctx.body.access_token);
      if (at && at.extra && at.extra.patient) ctx.body = { ...ctx.body, patient: at.extra.patient };
    }
  });
}

module.exports = function smartAdapter({ core, router, repo, provider, origin, fhirBase, types }) {
  const send = (res, status, body, headers = {}) => {
    res.writeHead(status, { 'content-type': FHIR_JSON, 'cache-control': 'no-store', ...headers });
    res.end(JSON.stringify(body));
  };
  const outcome = (severity, code, text) => ({ resourceType: 'OperationOutcome', issue: [{ severity, code, details: { text } }] });

  const smartConfig = {
    issuer: origin,
    jwks_uri: `${origin}/jwks`,
    authorization_endpoint: `${origin}/auth`,
    token_endpoint: `${origin}/token`,
    introspection_endpoint: `${origin}/token/introspection`,
    revocation_endpoint: `${origin}/token/revocation`,
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: ['openid', 'fhirUser', 'launch/patient', 'offline_access', 'online_access', 'patient/*.rs', 'patient/*.read'],
    capabilities: ['launch-standalone', 'client-public', 'client-confidential-symmetric', 'context-standalone-patient',
      'permission-patient', 'permission-offline', 'permission-online', 'permission-v1', 'permission-v2', 'sso-openid-connect'],
  };

  // The CapabilityStatement states what the engine does: read and search on every loaded type,
  // with the search parameters Medplum indexed for it.
  const capability = {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString().slice(0, 10),
    kind: 'instance',
    software: { name: 'pacheck interop harness (Medplum fhir-router + oidc-provider)' },
    implementation: { description: 'In-memory Medplum FHIR engine behind a SMART adapter', url: fhirBase },
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [{
      mode: 'server',
      security: {
        service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] }],
        extension: [{
          url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
          extension: [{ url: 'authorize', valueUri: smartConfig.authorization_endpoint }, { url: 'token', valueUri: smartConfig.token_endpoint }],
        }],
      },
      resource: types.slice().sort().map((type) => ({
        type,
        interaction: [{ code: 'read' }, { code: 'search-type' }],
        searchParam: Object.values(core.getSearchParameters(type) || {})
          .filter((sp) => sp.code && sp.type)
          .map((sp) => ({ name: sp.code, definition: sp.url, type: sp.type })),
      })),
    }],
  };

  async function handle(req, res, u) {
    try {
      const rel = u.pathname.slice('/fhir'.length) || '/';
      if (rel === '/.well-known/smart-configuration') return send(res, 200, smartConfig, { 'content-type': 'application/json' });
      if (rel === '/metadata') return send(res, 200, capability);

      // Bearer validation: an access token oidc-provider issued, unexpired, for this resource.
      const m = /^Bearer +(\S+)$/i.exec(req.headers.authorization || '');
      const at = m ? await provider.AccessToken.find(m[1]) : undefined;
      if (!at || at.isExpired || (at.aud && at.aud !== fhirBase && !(Array.isArray(at.aud) && at.aud.includes(fhirBase)))) {
        return send(res, 401, outcome('error', 'login', 'a valid bearer token is required'),
          { 'www-authenticate': `Bearer realm="${fhirBase}"${m ? ', error="invalid_token"' : ''}` });
      }
      const scopes = String(at.scope || '').split(' ');
      const parts = rel.split('/').filter(Boolean);
      const type = parts[0];
      if (req.method !== 'GET' && !(req.method === 'POST' && parts[1] === '_search')) {
        return send(res, 403, outcome('error', 'forbidden', 'this API is read-only'), { 'www-authenticate': 'Bearer error="insufficient_scope"' });
      }
      const want = parts.length >= 2 && parts[1] !== '_search' ? 'r' : 's';
      if (!type || type.startsWith('$') || type.startsWith('_') || !allows(scopes, type, want)) {
        return send(res, 403, outcome('error', 'forbidden', `the token's scopes do not allow this ${want === 'r' ? 'read' : 'search'}`),
          { 'www-authenticate': 'Bearer error="insufficient_scope"' });
      }

      let body;
      if (req.method === 'POST') body = await readBody(req);
      const query = Object.create(null);
      const params = new URLSearchParams(u.search);
      if (body && /application\/x-www-form-urlencoded/.test(req.headers['content-type'] || '')) {
        for (const [k, v] of new URLSearchParams(body)) params.append(k, v);
      }
      for (const [k, v] of params) {
        if (k in query) query[k] = [].concat(query[k], v); else query[k] = v;
      }
      const path = req.method === 'POST' ? `/${type}` : rel;
      const [oc, resource] = await router.handleRequest({ method: 'GET', url: path, pathname: '', params: {}, query, body: undefined, headers: req.headers }, repo);
      const status = core.getStatus(oc);
      if (!resource) return send(res, status, oc);
      if (resource.resourceType === 'Bundle' && resource.type === 'searchset') absolutize(resource, u, type);
      return send(res, status, resource);
    } catch (e) {
      console.error('[interop] FHIR request failed:', e && e.stack || e);
      return send(res, 500, outcome('fatal', 'exception', String(e && e.message || e)));
    }
  }

  // absolutize gives a search Bundle the absolute fullUrls and self/next links FHIR requires
  // (Medplum's router returns relative ones and leaves the base to its server).
  function absolutize(bundle, u, type) {
    for (const e of bundle.entry || []) {
      if (e.resource && e.resource.id && !/^https?:/.test(e.fullUrl || '')) e.fullUrl = `${fhirBase}/${e.resource.resourceType}/${e.resource.id}`;
    }
    for (const l of bundle.link || []) {
      if (l.url && !/^https?:/.test(l.url)) l.url = new URL(l.url.replace(/^\/?(fhir\/R4\/)?/, ''), `${fhirBase}/`).toString();
    }
    if (!(bundle.link || []).some((l) => l.relation === 'self')) {
      bundle.link = [{ relation: 'self', url: `${fhirBase}/${type}${u.search}` }, ...(bundle.link || [])];
    }
  }

  return { handle };
};

function readBody(req) {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks = [];
    req.on('data', (c) => { size += c.length; if (size > 1 << 20) { reject(new Error('body too large')); req.destroy(); } else chunks.push(c); });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

module.exports.resourceScopes = resourceScopes;
module.exports.attachToProvider = attachToProvider;
module.exports.allows = allows;
module.exports.members = members;
