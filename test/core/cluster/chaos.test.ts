import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, type SimMessage, startSimulator } from '../../../simulator/index.js';
import { freePort } from '../../../testing/index.js';
import { dropTestStorage, persistentTestStorageUrl } from '../../helpers/storage.js';

/**
 * Three replicas, each its own process, on one PostgreSQL and the simulator. While chat
 * commands, card clicks, Alertmanager webhooks and a task run go on, one replica is killed
 * with SIGKILL every few seconds and started again. Then everything must have happened once:
 * each accepted message answered once and in order, each alert notified once, each
 * escalation level sent once, DingTalk's QPS kept, no run left running.
 */
const shared = process.env.DINGOPS_TEST_STORAGE === 'postgres';
const QPS = 10;
const AM_TOKEN = 'am-token-chaos-0123456789';
const CHAOS_MS = 24_000;
const KILL_EVERY_MS = 3_000;

interface Replica {
  port: number;
  child?: ChildProcess;
  output: string;
  kills: number;
}

let sim: RunningSimulator | undefined;
let storage = '';
let dir = '';
const replicas: Replica[] = [];

afterAll(async () => {
  for (const r of replicas) r.child?.kill('SIGKILL');
  await sim?.stop();
  if (storage) await dropTestStorage(storage);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const TICKER = `let i = 0; const t = setInterval(() => { console.log('tick ' + ++i); if (i >= 30) clearInterval(t); }, 200);`;

function config(simUrl: string): string {
  return `dingtalk:
  clientId: dingops-demo
  clientSecret: dingops-demo-secret
  apiBase: ${simUrl}
  oapiBase: ${simUrl}
  cardTemplateId: dingops.default.schema
  limits:
    qps: ${QPS}
server:
  port: 0
locale: en
access:
  admins: [alice]
  roles:
    oncall: [bob]
plugins:
  burst:
    from: ${resolve('test/fixtures/plugins/burst')}
  alerts:
    sources:
      alertmanager: { token: ${AM_TOKEN} }
    grouping: { groupWait: 300ms, groupInterval: 1s, repeatInterval: 1h }
    defaultRoute: { groups: [cid-ops] }
    routes:
      - match: ['severity=critical']
        groups: [cid-ops]
        escalation: oncall
    escalations:
      oncall:
        levels:
          - { people: [bob], after: 2s }
          - { people: [carol], after: 1h }
  tasks:
    tasks:
      slow:
        description: ticks for six seconds
        command: [${JSON.stringify(process.execPath)}, -e, ${JSON.stringify(TICKER)}]
        allow: { users: [alice], groups: [cid-ops] }
        timeout: 1m
`;
}

function start(r: Replica, configFile: string): void {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', resolve('core/cli/main.ts'), 'start', '--config', configFile],
    {
      env: {
        ...process.env,
        DINGOPS_STORAGE_URL: storage,
        DINGOPS_PORT: String(r.port),
        DINGOPS_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.on('data', (d) => {
    r.output += d;
  });
  child.stderr?.on('data', (d) => {
    r.output += d;
  });
  r.child = child;
}

async function kill(r: Replica): Promise<void> {
  const child = r.child;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGKILL');
  await exited;
  r.kills++;
}

async function ready(r: Replica, ms = 30_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    const ok = await fetch(`http://127.0.0.1:${r.port}/readyz`)
      .then((res) => res.ok)
      .catch(() => false);
    if (ok) return;
    await new Promise((w) => setTimeout(w, 100));
  }
  throw new Error(`replica on ${r.port} not ready:\n${r.output.slice(-2000)}`);
}

/** Alertmanager behind a balancer: one replica, then the next when that one is down or busy. */
async function postAlert(name: string, severity: string, from: number): Promise<number> {
  const body = JSON.stringify({
    version: '4',
    groupKey: `{}:{alertname="${name}"}`,
    status: 'firing',
    receiver: 'dingops',
    groupLabels: { alertname: name },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    alerts: [
      {
        status: 'firing',
        labels: { alertname: name, severity },
        annotations: { summary: `${name} is high` },
        startsAt: '2026-12-01T06:00:00Z',
        endsAt: '0001-01-01T00:00:00Z',
        fingerprint: `fp-${name}`,
      },
    ],
  });
  // Alertmanager retries a failed webhook for minutes; two replicas may be restarting at once.
  for (let attempt = 0, end = Date.now() + 30_000; Date.now() < end; attempt++) {
    const r = replicas[(from + attempt) % replicas.length] as Replica;
    const status = await fetch(`http://127.0.0.1:${r.port}/alerts/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${AM_TOKEN}` },
      body,
    })
      .then((res) => res.status)
      .catch(() => 0);
    if (status === 200) return status;
    await new Promise((w) => setTimeout(w, 100));
  }
  throw new Error(`no replica took ${name}`);
}

const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)] as T;

describe.runIf(shared)('three replicas, one killed with SIGKILL every few seconds', () => {
  it('answer each message once and in order, notify and escalate once, keep the QPS, leave no run running', async () => {
    sim = await startSimulator({ sessionWebhookTtlMs: 1 });
    const { client } = sim;
    storage = persistentTestStorageUrl();
    dir = mkdtempSync(join(tmpdir(), 'dingops-chaos-'));
    const configFile = join(dir, 'bot.config.yaml');
    writeFileSync(configFile, config(sim.url));
    for (let i = 0; i < 3; i++) replicas.push({ port: await freePort(), output: '', kills: 0 });
    // All three at once: their migrations meet at the migration lock.
    for (const r of replicas) start(r, configFile);
    await Promise.all(replicas.map((r) => ready(r)));

    const bursts: { tag: string; conversation: string; msgId: string }[] = [];
    const alerts: { name: string; critical: boolean }[] = [];
    const acked = new Set<string>();
    let stop = false;

    const chat = (async () => {
      for (let n = 0; !stop; n++) {
        const user = pick(['alice', 'bob', 'carol']);
        const inGroup = Math.random() < 0.5;
        const tag = `t${n}`;
        const sent = await client.as(user).say(`burst 3 ${tag}`, inGroup ? { group: 'ops' } : {});
        if (sent.delivered) bursts.push({ tag, conversation: sent.conversation, msgId: sent.msgId });
        await new Promise((w) => setTimeout(w, 250));
      }
    })();
    const webhooks = (async () => {
      for (let k = 0; !stop; k++) {
        const name = `Chaos${k}`;
        const critical = k % 2 === 0;
        alerts.push({ name, critical });
        // An HA pair of Alertmanagers: the same group sent twice, to two replicas.
        await Promise.all([
          postAlert(name, critical ? 'critical' : 'warning', k),
          postAlert(name, critical ? 'critical' : 'warning', k + 1),
        ]);
        await new Promise((w) => setTimeout(w, 800));
      }
    })();
    const clicks = (async () => {
      while (!stop) {
        await new Promise((w) => setTimeout(w, 500));
        await clickAcknowledge();
      }
    })();
    const task = await client.as('alice').say('run slow', { group: 'ops' });

    const chaosEnds = Date.now() + CHAOS_MS;
    while (Date.now() < chaosEnds) {
      await new Promise((w) => setTimeout(w, KILL_EVERY_MS));
      const victim = pick(replicas);
      await kill(victim);
      start(victim, configFile);
    }
    stop = true;
    await Promise.all([chat, webhooks]);
    await Promise.all(replicas.map((r) => ready(r)));
    await clicks;
    /** bob acknowledges the warnings not acknowledged yet, from their cards (a click may land on a dying replica). */
    async function clickAcknowledge(): Promise<void> {
      for (const a of alerts.filter((x) => !x.critical && !acked.has(x.name))) {
        const card = incidentCards(a.name)[0];
        if (!card?.cardId) continue;
        const clicked = await client
          .as('bob')
          .click(card, { action: 'alerts.ack', incident: incidentId(card) })
          .catch(() => undefined);
        if (clicked?.responded && clicked.content.includes('Acknowledged')) acked.add(a.name);
      }
    }
    function incidentCards(name: string, conversation = 'ops'): SimMessage[] {
      return client
        .botMessages(conversation)
        .filter((m) => m.kind === 'card' && (m.title ?? '').includes(`${name} is high`));
    }
    function incidentId(card: SimMessage): string {
      return card.buttons.find((b) => b.params?.action === 'alerts.ack')?.params?.incident ?? '';
    }
    const repliesTo = (b: { tag: string; conversation: string }) =>
      client
        .botMessages(b.conversation)
        .map((m) => m.content)
        .filter((c) => c.startsWith(`${b.tag} reply `));

    // Accepted = recorded in the inbox (a push to a replica killed before it stored the
    // message is one DingTalk did not deliver: never acknowledged).
    const db = new pg.Client({ connectionString: storage.replace(/[?&]schema=[^&]+/, '') });
    await db.connect();
    const schema = new URL(storage).searchParams.get('schema');
    await db.query(`set search_path to "${schema}"`);
    const accepted = new Set(
      (await db.query<{ id: string }>(`select id from inbound_seen`)).rows.map((r) =>
        r.id.replace(/^msg:/, ''),
      ),
    );
    const settled = async () => {
      const running = await db.query(`select id from tasks_run where status = 'running'`);
      return (
        bursts.every((b) => !accepted.has(b.msgId) || repliesTo(b).length >= 3) &&
        alerts.every((a) => incidentCards(a.name).length >= 1) &&
        alerts
          .filter((a) => a.critical)
          .every(
            (a) =>
              incidentCards(a.name, 'dm:bob').length >= 1 && incidentCards(a.name, 'dm:carol').length >= 1,
          ) &&
        running.rows.length === 0
      );
    };
    for (const end = Date.now() + 45_000; Date.now() < end && !(await settled()); )
      await new Promise((w) => setTimeout(w, 250));
    await new Promise((w) => setTimeout(w, 1_000));
    // A click whose answer was lost (its replica killed after it acknowledged) still counts:
    // what the store says is the outcome. The ones still missing are clicked again now.
    const acknowledged = async () => {
      const r = await db.query<{ title: string }>(
        `select title from alerts_incident where status = 'acknowledged'`,
      );
      for (const a of alerts)
        if (r.rows.some((x) => x.title.includes(`${a.name} is high`))) acked.add(a.name);
    };
    await acknowledged();
    for (let round = 0; round < 20 && alerts.some((a) => !a.critical && !acked.has(a.name)); round++) {
      await clickAcknowledge();
      await new Promise((w) => setTimeout(w, 500));
      await acknowledged();
    }

    const kills = replicas.reduce((n, r) => n + r.kills, 0);
    const takeovers = replicas.reduce(
      (n, r) => n + (r.output.match(/may reach DingTalk twice/g)?.length ?? 0),
      0,
    );
    expect(kills).toBeGreaterThanOrEqual(6);

    // Every accepted message answered once (the documented duplicate aside), in order.
    let duplicates = 0;
    const acceptedBursts = bursts.filter((b) => accepted.has(b.msgId));
    expect(acceptedBursts.length).toBeGreaterThan(bursts.length * 0.8);
    for (const b of acceptedBursts) {
      const replies = repliesTo(b);
      const once = replies.filter((c, i) => c !== replies[i - 1]);
      duplicates += replies.length - once.length;
      expect(once, `${b.tag} in ${b.conversation}`).toEqual([
        `${b.tag} reply 1`,
        `${b.tag} reply 2`,
        `${b.tag} reply 3`,
      ]);
    }
    // Never accepted: never answered, not half answered.
    for (const b of bursts.filter((x) => !accepted.has(x.msgId))) expect(repliesTo(b)).toEqual([]);
    expect(duplicates).toBeLessThanOrEqual(takeovers);

    // Every alert notified once; each escalation level of the critical ones sent once.
    for (const a of alerts) expect(incidentCards(a.name), a.name).toHaveLength(1);
    for (const a of alerts.filter((x) => x.critical)) {
      expect(incidentCards(a.name, 'dm:bob'), `${a.name} level 1`).toHaveLength(1);
    }
    // Level 2 (carol, 2 s later: nobody acknowledges the critical ones), once each.
    for (const a of alerts.filter((x) => x.critical))
      expect(incidentCards(a.name, 'dm:carol'), `${a.name} level 2`).toHaveLength(1);
    // The clicks acknowledged the warnings, once each.
    for (const a of alerts.filter((x) => !x.critical))
      expect(acked.has(a.name), `${a.name} acknowledged`).toBe(true);

    // DingTalk's QPS per API, in every one-second window of the simulator's call log.
    const perWindow = new Map<string, number>();
    for (const c of client.api.calls().calls) {
      if (/token/i.test(c.path)) continue;
      const k = `${c.path} ${Math.floor(c.at / 1000)}`;
      perWindow.set(k, (perWindow.get(k) ?? 0) + 1);
    }
    const busiest = Math.max(...perWindow.values());
    expect(busiest).toBeLessThanOrEqual(QPS);
    expect(
      client.api.calls().calls.filter((c) => c.code === 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi'),
    ).toEqual([]);

    // No run left running: the slow task's replica may have died; another marked it.
    const runs = await db.query<{ status: string }>(`select status from tasks_run`);
    expect(runs.rows.length).toBe(1);
    expect(['succeeded', 'interrupted']).toContain(runs.rows[0]?.status);
    void task;
    await db.end();
    // The figures of this run, for whoever reads the test output.
    console.info(
      `chaos: ${kills} kills; ${acceptedBursts.length} of ${bursts.length} messages accepted, each answered once in order (${duplicates} duplicate replies, ${takeovers} takeovers); ${alerts.length} alerts notified once, ${alerts.filter((a) => a.critical).length} escalated once per level; busiest second ${busiest} calls of one API (limit ${QPS}); the task run ${runs.rows[0]?.status}`,
    );
  }, 180_000);
});
