'use strict';
// The harness's members and registered clients. oidc-provider's own login page takes any login
// name: only the names below are known accounts (findAccount refuses the rest). Each member is
// one Patient of the loaded official examples; the secrets are test values for loopback only.
const members = {
  member1: { patient: 'example', name: 'Amy V. Shaw (US Core 6.1.0 example)' },
  member2: { patient: 'Patient1', name: 'Johnny Example1 (CARIN BB 2.0.0 example)' },
};

const SECRET = 'interop-loopback-secret';
const PUBLIC_REDIRECT = '/app/callback';

function clients(origin) {
  const base = {
    redirect_uris: [origin + PUBLIC_REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  };
  return [
    { ...base, client_id: 'pacheck-public', token_endpoint_auth_method: 'none' },
    { ...base, client_id: 'pacheck-basic', client_secret: SECRET, token_endpoint_auth_method: 'client_secret_basic' },
    { ...base, client_id: 'pacheck-post', client_secret: SECRET, token_endpoint_auth_method: 'client_secret_post' },
  ];
}

module.exports = { members, clients, SECRET, PUBLIC_REDIRECT };
