/** adobeTargetFromEnv: the CLI's PROFILEGATE_ADOBE_* variables (issue 21). */
import assert from 'node:assert/strict';
import { AdobeConfigError, adobeTargetFromEnv } from '../src/adobe/adobe-env';
import { DEFAULT_ADOBE_IMS_SCOPES } from '../src/adobe/adobe-client';

const SECRET = 'p8e-super-secret-value-123456';
const FULL = {
  PROFILEGATE_ADOBE_TENANT: 'acme',
  PROFILEGATE_ADOBE_CLIENT_ID: 'cid-0123',
  PROFILEGATE_ADOBE_CLIENT_SECRET: SECRET,
};

function refused(env: Record<string, string>, variable: string): AdobeConfigError {
  try {
    adobeTargetFromEnv(env);
  } catch (error) {
    assert.ok(error instanceof AdobeConfigError, String(error));
    assert.equal(error.variable, variable);
    assert.ok(error.message.includes(variable), error.message);
    assert.ok(!error.message.includes(SECRET));
    return error;
  }
  return assert.fail(`no error for ${variable}`);
}

describe('adobeTargetFromEnv', () => {
  it('is null when no PROFILEGATE_ADOBE_* variable is set (a Profilegate server then)', () => {
    assert.equal(adobeTargetFromEnv({ PROFILEGATE_URL: 'http://x', PROFILEGATE_ADOBE_SCOPES: '  ' }), null);
  });

  it('reads tenant, id and secret, with the default scopes and URLs', () => {
    assert.deepEqual(adobeTargetFromEnv(FULL), {
      tenant: 'acme',
      clientId: 'cid-0123',
      clientSecret: SECRET,
      scopes: [...DEFAULT_ADOBE_IMS_SCOPES],
      imsUrl: 'https://ims-na1.adobelogin.com',
      adminUrl: 'https://mc.adobe.io',
    });
  });

  it('splits the scopes on commas and spaces and takes the URLs given', () => {
    const options = adobeTargetFromEnv({
      ...FULL,
      PROFILEGATE_ADOBE_SCOPES: 'openid, AdobeID target_sdk,,read_organizations',
      PROFILEGATE_ADOBE_IMS_URL: 'http://127.0.0.1:4000/',
      PROFILEGATE_ADOBE_ADMIN_URL: 'http://127.0.0.1:4001',
    });
    assert.deepEqual(options?.scopes, ['openid', 'AdobeID', 'target_sdk', 'read_organizations']);
    assert.equal(options?.imsUrl, 'http://127.0.0.1:4000');
    assert.equal(options?.adminUrl, 'http://127.0.0.1:4001');
  });

  it('names the missing or wrong variable, never printing the secret', () => {
    refused({ PROFILEGATE_ADOBE_CLIENT_SECRET: SECRET }, 'PROFILEGATE_ADOBE_TENANT');
    refused({ ...FULL, PROFILEGATE_ADOBE_TENANT: 'a/b' }, 'PROFILEGATE_ADOBE_TENANT');
    refused({ ...FULL, PROFILEGATE_ADOBE_CLIENT_ID: '' }, 'PROFILEGATE_ADOBE_CLIENT_ID');
    refused({ PROFILEGATE_ADOBE_TENANT: 'acme', PROFILEGATE_ADOBE_CLIENT_ID: 'x' }, 'PROFILEGATE_ADOBE_CLIENT_SECRET');
    refused({ ...FULL, PROFILEGATE_ADOBE_SCOPES: ' , ,' }, 'PROFILEGATE_ADOBE_SCOPES');
    refused({ ...FULL, PROFILEGATE_ADOBE_IMS_URL: 'not a url' }, 'PROFILEGATE_ADOBE_IMS_URL');
    refused({ ...FULL, PROFILEGATE_ADOBE_ADMIN_URL: 'ftp://mc.adobe.io' }, 'PROFILEGATE_ADOBE_ADMIN_URL');
  });
});
