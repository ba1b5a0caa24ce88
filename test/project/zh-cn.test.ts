import { afterEach, describe, expect, it } from 'vitest';
import { en } from '../../core/i18n/catalog/en.js';
import { createSimBot, type SimBot } from '../helpers/sim-bot.js';
import { AM_TOKEN, amPayload, postAlerts } from '../plugins/alerts/helpers.js';
import { nodeCommand } from '../plugins/tasks/helpers.js';

let sb: SimBot | undefined;
afterEach(async () => {
  await sb?.stop();
  sb = undefined;
});

/**
 * What is left of a reply once the parts that are rightly not Chinese are taken out: code
 * spans and fences (commands, values), URLs, @mentions, ids, times, and the names of things
 * (users, groups, tasks, alerts, checks) that the test itself chose.
 */
function prose(text: string, names: string[]): string {
  let t = text
    .replace(/```[\s\S]*?```/g, ' ')
    .replace(/`[^`\n]*`/g, ' ')
    .replace(/https?:\/\/\S+/g, ' ')
    .replace(/@\S+/g, ' ')
    .replace(/\d{4}-\d\d-\d\d[ T][\d:.]+Z?/g, ' ');
  for (const n of names) t = t.split(n).join(' ');
  return t;
}

/** English words left (a message that skipped the catalogs), or a catalog key left as is. */
function englishLeft(text: string): string[] {
  // Any English word of four letters or more left (a single "queued" counts).
  const words = [...text.matchAll(/\b[A-Za-z][a-z]{3,}\b/g)].map((m) => m[0]);
  const keys = [...text.matchAll(/\b[a-z]+(?:\.[a-zA-Z]+)+\b/g)]
    .map((m) => m[0])
    .filter((k) => k in en || /^(builtin|alerts|tasks|warroom|faq|hello|pipeline|doctor|card)\./.test(k));
  return [...words, ...keys];
}

const NAMES = [
  // data the test chose or the config names: route, source, role, reply word, product terms
  'warroom-template',
  'default',
  'alertmanager',
  'role:oncall',
  'oncall',
  'admin',
  'pong',
  'https',
  'Stream',
  // plugin names
  'core',
  'faq',
  'alerts',
  'warroom',
  'tasks',
  'DiskFull',
  'is high',
  'dingops',
  'Alice',
  'Bob',
  'Carol',
  'alice',
  'bob',
  'carol',
  'ops',
  'cid-ops',
  'uptime',
  'hello',
  'HighLatency',
  'sqlite',
  'postgres',
  'stream',
  'SQLite',
  'PostgreSQL',
];

describe('zh-CN means zh-CN', () => {
  it('the main commands of the core and every plugin answer in Chinese', async () => {
    sb = await createSimBot({
      env: { DINGOPS_LOCALE: 'zh-CN' },
      yaml: `people:\n  - { name: Alice, userId: alice }\n  - { name: Bob, userId: bob }\n  - { name: Carol, userId: carol }\nplugins:\n  hello: {}\n  faq: {}\n  alerts:\n    sources:\n      alertmanager: { token: ${AM_TOKEN} }\n    grouping: { groupWait: 100ms, groupInterval: 200ms, repeatInterval: 1h }\n    defaultRoute: { groups: [cid-ops] }\n    routes:\n      - { match: [team=dba], groups: [dba] }\n  warroom:\n    templateId: warroom-template\n    robotCode: dingops-warroom\n  tasks:\n    updateInterval: 200ms\n    tasks:\n      uptime:\n        command: ${nodeCommand('console.log("up")')}\n        allow: { roles: [oncall] }\n`,
    });
    await postAlerts(sb, 'alertmanager', amPayload([{ name: 'DiskFull' }]));
    await sb.sim.client.until(() => sb!.sim.client.botMessages('ops').length > 0, 3000, 'the incident card');
    const lines: Array<[string, string]> = [
      ['alice', 'help'],
      ['alice', 'ping'],
      ['alice', 'whoami'],
      ['alice', 'status'],
      ['alice', 'groups'],
      ['bob', 'pnig'],
      ['carol', 'audit'],
      ['alice', 'incidents'],
      ['bob', 'ack 1'],
      ['alice', 'incident 1'],
      ['carol', 'resolve 1'],
      ['alice', 'silence list'],
      ['alice', 'alerts route test alertname=DiskFull'],
      ['alice', 'tasks'],
      ['bob', 'run uptime'],
      ['alice', 'task history'],
      ['alice', 'faq list'],
      ['alice', 'audit -n 20'],
      ['alice', 'doctor alerts'],
      ['alice', 'doctor alerts.groups.dba'],
    ];
    const found: string[] = [];
    for (const [who, line] of lines) {
      const reply = await sb.sim.client.as(who).ask(line, { group: 'ops' });
      const left = englishLeft(prose(`${reply.title ?? ''}\n${reply.content}`, NAMES));
      if (left.length) found.push(`${who}: ${line} → ${left.join(' | ')}`);
    }
    expect(found).toEqual([]);
  });
});
