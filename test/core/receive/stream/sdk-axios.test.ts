import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sdkAxios from '../../../../core/receive/stream/sdk-axios.js';

/**
 * What the Stream SDK gets for axios in the build: if the SDK ever calls it (a call our
 * client does not override), the call is axios's own, only loaded then.
 */
describe("the Stream SDK's axios, loaded on first call", () => {
  let base = '';
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, url: req.url, accept: req.headers.accept, body }));
    });
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('answers the two calls the SDK makes as axios would: a GET, and a POST given as a config object', async () => {
    const got = (await sdkAxios.get(`${base}/gettoken?appkey=a`)) as { status: number; data: unknown };
    expect(got.status).toBe(200);
    expect(got.data).toMatchObject({ method: 'GET', url: '/gettoken?appkey=a' });
    const posted = (await sdkAxios({
      url: `${base}/v1.0/gateway/connections/open`,
      method: 'POST',
      responseType: 'json',
      data: { clientId: 'x' },
      headers: { Accept: 'application/json' },
    })) as { data: { method: string; accept: string; body: string } };
    expect(posted.data.method).toBe('POST');
    expect(posted.data.accept).toBe('application/json');
    expect(JSON.parse(posted.data.body)).toEqual({ clientId: 'x' });
  });

  it("rejects as axios does when the server refuses (the SDK's own error handling sees axios's error)", async () => {
    const { AxiosError } = await import('axios');
    const err = await sdkAxios.get('http://127.0.0.1:1/').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AxiosError);
    expect((err as { code?: string }).code).toBe('ECONNREFUSED');
  });
});
