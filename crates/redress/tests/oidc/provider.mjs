// The OpenID provider of the sign-in tests: oidc-provider (a certified implementation) on a
// loopback port, with its built-in login and consent pages. Started by the test harness:
//
//   PORT            port to listen on (127.0.0.1)
//   KEY_ID          `kid` of the RSA signing key, generated at start (a restart with
//                   another KEY_ID is a key rotation: the old key is gone)
//   REDIRECT_URI    Redress's /auth/callback
//   POST_LOGOUT_URI where the provider sends the browser after signing out
//   CLAIMS_IN_USERINFO_ONLY  `true`: the provider's own default (OpenID Connect Core 5.4),
//                   the claims of the scopes asked for in the userinfo answer only; else
//                   they are in the ID token too
//
// Accounts: any login works (the built-in pages accept any password); the groups of a
// login are in GROUPS below. Clients: `redress-console` (authorization code, PKCE) and
// `platform-service` (client credentials), whose access tokens are JWTs for a resource
// (`urn:redress:api`, or `urn:other:api` to test the audience check).
// Prints `listening` once it accepts connections.

import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const { PORT, KEY_ID, REDIRECT_URI, POST_LOGOUT_URI, CLAIMS_IN_USERINFO_ONLY } = process.env;
const ISSUER = `http://127.0.0.1:${PORT}`;
const RESOURCES = ['urn:redress:api', 'urn:other:api'];

const GROUPS = {
  rita: ['appeals-reviewers', 'unrelated-team'],
  sam: ['appeals-leads'],
};

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: KEY_ID, use: 'sig', alg: 'RS256' };

const configuration = {
  clients: [
    {
      client_id: 'redress-console',
      client_secret: 'redress-console-secret-for-tests-only',
      redirect_uris: [REDIRECT_URI],
      post_logout_redirect_uris: [POST_LOGOUT_URI],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: 'platform-service',
      client_secret: 'platform-service-secret-for-tests-only',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: 'api',
    },
  ],
  jwks: { keys: [signingKey] },
  scopes: ['openid', 'profile', 'groups', 'api'],
  claims: { openid: ['sub'], profile: ['name'], groups: ['groups'] },
  // Claims of the scopes asked for go into the ID token too, unless the test asks for the
  // provider's default, where Redress finds them in the userinfo answer.
  conformIdTokenClaims: CLAIMS_IN_USERINFO_ONLY === 'true',
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, name: id, groups: GROUPS[id] ?? [] }),
  }),
  pkce: { required: () => true },
  cookies: { keys: ['a cookie key of the test provider only'] },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: (ctx, client) => (client.clientId === 'platform-service' ? 'urn:redress:api' : undefined),
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource) => {
        if (!RESOURCES.includes(resource)) throw new Provider.errors.InvalidTarget();
        return { scope: 'api', audience: resource, accessTokenFormat: 'jwt', accessTokenTTL: 600, jwt: { sign: { alg: 'RS256' } } };
      },
    },
  },
  // The platform's service acts with the integration role.
  extraTokenClaims: async (ctx, token) => (token.clientId === 'platform-service' ? { roles: ['integration'] } : undefined),
};

const provider = new Provider(ISSUER, configuration);
provider.listen(Number(PORT), '127.0.0.1', () => {
  process.stdout.write('listening\n');
});
