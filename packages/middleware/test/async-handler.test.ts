/** asyncRouter: async handlers on the Express major under test (the harness runs this under 4 and 5). */
import { strict as assert } from 'node:assert';
import express, { type NextFunction, type Request, type Response } from 'express';
import request from 'supertest';
import { asyncRouter } from '../src/async-handler';

function appWith(router: express.Router) {
  const app = express();
  app.use(router);
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).json({ caught: error instanceof Error ? error.message : String(error) });
  });
  return app;
}

describe(`asyncRouter (Express ${(require('express/package.json') as { version: string }).version})`, () => {
  it('passes a rejection of any handler to the error handler, for use and every route method', async () => {
    const router = asyncRouter();
    const fail = (what: string) => async () => {
      await Promise.resolve();
      throw new Error(what);
    };
    const pass = async (_req: Request, _res: Response, next: NextFunction) => {
      await Promise.resolve();
      next();
    };
    router.get('/get', pass, fail('get handler'));
    router.post('/post', [pass, fail('post handler in an array')]);
    router.put('/put', fail('put middleware'), (_req, res) => {
      res.json({ reached: true });
    });
    router.delete('/delete', fail('delete handler'));
    router.patch('/patch', fail('patch handler'));
    router.all('/all', fail('all handler'));
    router.use('/use', fail('use middleware'));
    router.use(fail('use middleware without a path'));
    const app = appWith(router);
    const cases: Array<[string, request.Test]> = [
      ['get handler', request(app).get('/get')],
      ['post handler in an array', request(app).post('/post')],
      ['put middleware', request(app).put('/put')],
      ['delete handler', request(app).delete('/delete')],
      ['patch handler', request(app).patch('/patch')],
      ['all handler', request(app).options('/all')],
      ['use middleware', request(app).get('/use/below')],
      ['use middleware without a path', request(app).get('/elsewhere')],
    ];
    for (const [what, pending] of cases) {
      const res = await pending;
      assert.equal(res.status, 500, what);
      assert.deepEqual(res.body, { caught: what });
    }
  });

  it('gives a promise rejected with nothing an error, and a synchronous throw goes the same way', async () => {
    const router = asyncRouter();
    router.get('/nothing', () => Promise.reject(undefined));
    router.get('/sync', () => {
      throw new Error('sync');
    });
    const app = appWith(router);
    assert.deepEqual((await request(app).get('/nothing')).body, { caught: 'Rejected promise' });
    assert.deepEqual((await request(app).get('/sync')).body, { caught: 'sync' });
  });

  it('mounts a router given to use() as it is (its stack stays readable)', () => {
    const inner = express.Router();
    const outer = asyncRouter();
    outer.use('/inner', inner);
    outer.use(inner);
    const stack = (outer as unknown as { stack: Array<{ handle: unknown }> }).stack;
    assert.deepEqual(
      stack.map((layer) => layer.handle),
      [inner, inner],
    );
  });

  it('keeps a route-level error handler (four parameters) an error handler', async () => {
    const router = asyncRouter();
    router.get(
      '/handled',
      () => Promise.reject(new Error('first')),
      (error: Error, _req: Request, res: Response, _next: NextFunction) => {
        res.status(418).json({ handledHere: error.message });
      },
    );
    const res = await request(appWith(router)).get('/handled');
    assert.equal(res.status, 418);
    assert.deepEqual(res.body, { handledHere: 'first' });
  });
});
