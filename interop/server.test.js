'use strict';
// The SMART adapter in front of the real libraries (node --test): discovery, bearer validation,
// scope checks and search Bundles with absolute URLs. Needs ../shared/fhir-packages (skips
// without it) and interop/node_modules (npm ci).
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');

const pkgs = path.join(process.env.PACHECK_SHARED || path.join(__dirname, '..', '..', 'shared'), 'fhir-packages');
const have = fs.existsSync(path.join(pkgs, 'hl7.fhir.us.core-6.1.0.tgz'));

test('SMART adapter over Medplum and oidc-provider', { skip: !have && `no FHIR packages in ${pkgs}` }, async (t) => {
  const { start } = require('./server');
  const stack = await start({ port: 0, packages: pkgs });
  t.after(() => stack.close());
  const { provider, fhirBase } = stack;
  const client = await provider.Client.find('pacheck-public');
  const mint = async (scope) => {
    const rs = new provider.ResourceServer(fhirBase, { scope, audience: fhirBase, accessTokenFormat: 'opaque' });
    const at = new provider.AccessToken({ accountId: 'member1', client, scope, resourceServer: rs, extra: { patient: 'example' } });
    return at.save();
  };
  const get = async (p, token) => {
    const res = await fetch(fhirBase + p, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, body: await res.json(), headers: res.headers };
  };

  await t.test('discovery and metadata are public', async () => {
    const c = await get('/.well-known/smart-configuration');
    assert.equal(c.status, 200);
    assert.ok(c.body.capabilities.includes('launch-standalone'));
    const m = await get('/metadata');
    assert.equal(m.body.resourceType, 'CapabilityStatement');
  });
  await t.test('no token or an unknown one is 401', async () => {
    assert.equal((await get('/Patient/example')).status, 401);
    const r = await get('/Patient/example', 'not-a-token');
    assert.equal(r.status, 401);
    assert.match(r.headers.get('www-authenticate'), /invalid_token/);
  });
  await t.test('read and search with a patient/*.rs token', async () => {
    const tok = await mint('launch/patient patient/*.rs');
    const r = await get('/Patient/example', tok);
    assert.equal(r.status, 200);
    assert.equal(r.body.id, 'example');
    const s = await get('/Condition?patient=Patient/example', tok);
    assert.equal(s.status, 200);
    assert.equal(s.body.type, 'searchset');
    assert.ok(s.body.entry.length > 0);
    for (const e of s.body.entry) assert.match(e.fullUrl, /^http:\/\/127\.0\.0\.1:\d+\/fhir\/Condition\//);
    assert.ok(s.body.link.some((l) => l.relation === 'self' && l.url.startsWith(fhirBase)));
  });
  await t.test('a scope without the type is 403', async () => {
    const tok = await mint('launch/patient patient/Patient.rs');
    assert.equal((await get('/Condition?patient=Patient/example', tok)).status, 403);
    assert.equal((await get('/Patient/example', tok)).status, 200);
  });
});
