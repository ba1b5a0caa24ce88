import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { Bot } from '../../../core/runtime/bot.js';
import { type RunningSimulator, startSimulator } from '../../../simulator/index.js';
import { freePort, startBotOnSimulator } from '../../../testing/index.js';
import { dropTestStorage, persistentTestStorageUrl } from '../../helpers/storage.js';

const shared = process.env.DINGOPS_TEST_STORAGE === 'postgres';
let sim: RunningSimulator | undefined;
let balancer: Server | undefined;
const bots: Bot[] = [];
let url = '';

afterEach(async () => {
  for (const b of bots.splice(0)) await b.stop('test').catch(() => undefined);
  await new Promise((r) => (balancer ? balancer.close(r) : r(undefined)));
  balancer = undefined;
  await sim?.stop();
  if (url) await dropTestStorage(url);
});

/** A round-robin load balancer on loopback, counting what each backend got. */
async function roundRobin(ports: number[]): Promise<{ url: string; hits: number[] }> {
  const hits = ports.map(() => 0);
  let next = 0;
  balancer = createServer((req, res) => {
    const i = next++ % ports.length;
    hits[i] = (hits[i] ?? 0) + 1;
    const upstream = request(
      { host: '127.0.0.1', port: ports[i], path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => balancer?.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(balancer.address() as AddressInfo).port}`, hits };
}

const quiet = () =>
  new Writable({
    write(_c, _e, done) {
      done();
    },
  });

describe('HTTP callback mode with two replicas behind a load balancer', () => {
  it('answers each message once and takes card clicks on either replica', async () => {
    if (!shared) return;
    sim = await startSimulator({ pingIntervalMs: 0 });
    url = persistentTestStorageUrl();
    const ports = [await freePort(), await freePort()];
    const lb = await roundRobin(ports);
    for (const port of ports)
      bots.push(
        await startBotOnSimulator(sim, {
          mode: 'http',
          port,
          publicUrl: lb.url,
          storageUrl: url,
          logs: quiet(),
          config: 'plugins:\n  hello: {}\n',
        }),
      );
    const { client } = sim;
    const before = client.cursor();
    for (let i = 0; i < 10; i++) await client.as('bob').say('ping', { group: 'ops' });
    const pongs = () => client.botMessages('ops').filter((m) => m.seq > before && /pong/i.test(m.content));
    await client.until(() => pongs().length >= 10 || undefined, 10_000, 'ten answers');
    await new Promise((r) => setTimeout(r, 300));
    expect(pongs()).toHaveLength(10);
    // The balancer spread the callbacks over both replicas.
    expect(lb.hits.every((n) => n >= 5)).toBe(true);
    // A card sent by one replica, clicked twice: each click may land on either; both count.
    const card = await client.as('alice').ask('hello', { group: 'ops' });
    const wave = card.buttons.find((b) => /wave/i.test(b.text));
    expect(wave?.params).toBeDefined();
    const first = await client.as('bob').click(card, wave?.params ?? {});
    const second = await client.as('carol').click(card, wave?.params ?? {});
    expect(first.responded && second.responded).toBe(true);
    expect(second.content).toContain('Waves: 2');
  });
});
