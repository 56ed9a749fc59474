import assert from 'node:assert/strict';
import { KeyRing, MemoryStore, generateSigningKey } from '@profilegate/core';
import express from 'express';
import request from 'supertest';
import { adminKeyAuthenticator, profileApi } from '../src/index';

describe('profileApi().close()', () => {
  function setup() {
    const store = new MemoryStore();
    const api = profileApi({
      clients: ['acme'],
      store,
      signingKeys: new KeyRing([generateSigningKey(Date.now())]),
      authenticateAdmin: adminKeyAuthenticator([{ key: 'close-test-admin-key-0123', role: 'admin' }]),
    });
    const app = express().use(api);
    return { store, api, app };
  }

  it('writes the denial counts still waiting for their sample window to the audit log', async () => {
    const { store, api, app } = setup();
    for (let i = 0; i < 3; i++) await request(app).get('/rest/v1/profiles/p1?client=acme').expect(401);
    await api.close();
    const denials = (await store.listAudit('acme', 10)).filter((e) => e.action === 'auth.denied');
    const counted = denials.reduce((sum, e) => sum + Number(e.details['count']), 0);
    assert.equal(counted, 3);
  });

  it('waits for a batch being applied to complete', async () => {
    const { store, api, app } = setup();
    await store.putSettings('acme', { requireAuthentication: false });
    const rows = Array.from({ length: 5000 }, (_, i) => `u${i},gold`).join('\n');
    const res = await request(app)
      .post('/m2/acme/v2/profile/batchUpdate')
      .set('Accept', 'application/json')
      .type('text/csv')
      .send(`thirdPartyId,tier\n${rows}\n`)
      .expect(200);
    await api.close();
    const batch = await store.getBatch('acme', res.body.batchId);
    assert.equal(batch?.status, 'complete');
    assert.equal(batch?.successfulUpdates, 5000);
  });
});
