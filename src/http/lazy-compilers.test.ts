import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { admin, buildTestApp, issueOf } from '../../test/helper.ts';
import { type LazyCompilers, lazyCompilers } from './lazy-compilers.ts';

let app: FastifyInstance | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
});

/** Two routes, each with a body validator and a response serializer. */
async function appWith(compilers: LazyCompilers, extra?: (app: FastifyInstance) => void) {
  app = Fastify({
    schemaController: { compilersFactory: compilers.compilersFactory },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
  });
  const body = {
    type: 'object',
    required: ['laCode'],
    additionalProperties: false,
    properties: { laCode: { type: 'string', pattern: '^E[0-9]{8}$' } },
  };
  const response = { 200: { type: 'object', properties: { laCode: { type: 'string' } } } };
  for (const path of ['/one', '/two']) {
    app.post(path, { schema: { body, response } }, async (req) => ({
      ...(req.body as object),
      secret: 'not in the response schema',
    }));
  }
  extra?.(app);
  await app.ready();
  return app;
}

describe('route schemas compiled on first use', () => {
  it('start with nothing compiled, and a route compiles its own on its first request, answering as it always did', async () => {
    const compilers = lazyCompilers();
    const a = await appWith(compilers);
    // Two body validators and two response serializers, none compiled by ready().
    expect(compilers.pending()).toBe(4);

    const bad = await a.inject({ method: 'POST', url: '/one', payload: { laCode: 'nope' } });
    expect(bad.statusCode).toBe(400);
    // The validator's errors reach Fastify from the stand-in: the field at fault is named.
    expect(bad.json().message).toMatch(/laCode/);
    expect(compilers.pending()).toBe(3);

    const good = await a.inject({ method: 'POST', url: '/one', payload: { laCode: 'E09000001' } });
    expect(good.statusCode).toBe(200);
    // The response serializer compiled too, and still writes only what the schema names.
    expect(good.json()).toEqual({ laCode: 'E09000001' });
    expect(compilers.pending()).toBe(2);

    const extra = await a.inject({ method: 'POST', url: '/one', payload: { laCode: 'E09000001', x: 1 } });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().message).toMatch(/additional/);
  });

  it('compile the rest in the background, after which every route answers as before', async () => {
    const compilers = lazyCompilers();
    const a = await appWith(compilers);
    await compilers.compileRemaining(1);
    expect(compilers.pending()).toBe(0);
    const res = await a.inject({ method: 'POST', url: '/two', payload: {} });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/laCode/);
  });

  it('report a schema that cannot compile, and refuse its route rather than let it run unchecked', async () => {
    const compilers = lazyCompilers();
    const a = await appWith(compilers, (app) =>
      app.post('/broken', { schema: { body: { type: 'no-such-type' } } }, async () => ({ ran: true })),
    );
    await expect(compilers.compileRemaining()).rejects.toThrow(/1 route schema\(s\) did not compile/);
    expect(compilers.pending()).toBe(0); // nothing left untried
    const res = await a.inject({ method: 'POST', url: '/broken', payload: {} });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('ran');
    // The other routes are unaffected.
    expect(
      (await a.inject({ method: 'POST', url: '/one', payload: { laCode: 'E09000001' } })).statusCode,
    ).toBe(200);
  });
});

describe("the service's routes", () => {
  it('all have schemas that compile, once the service has started', async () => {
    const t = await buildTestApp('pglite');
    try {
      await expect(t.service.schemasCompiled).resolves.toBeUndefined();
      // A route's first call validates as before: a malformed organisation is refused, naming its field.
      const res = await t.as(admin).put('/admin/v1/organisations/RXX01', { name: 7, setting: 'ae' });
      expect(res.statusCode).toBe(400);
      expect(issueOf(res).field).toBe('name');
    } finally {
      await t.close();
    }
  });
});
