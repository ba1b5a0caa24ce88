import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GroupsToken } from '../../../core/directory/group-registry.js';
import type { PluginDefinition } from '../../../core/plugins/define-plugin.js';
import hello from '../../../plugins/hello/index.js';
import { robotMessagePayload, TOPIC_CARD, TOPIC_ROBOT } from '../../../simulator/robot-push.js';
import { createSimBot, type SimBot } from '../../helpers/sim-bot.js';

/**
 * The corpus of real DingTalk payloads (test/fixtures/dingtalk-real/README.md) through both
 * transports: each robot message reaches the bot with its content as DingTalk published it,
 * only its ids mapped onto the simulated organisation (conversation, sender, sessionWebhook,
 * robotCode, msgId), and gets the behaviour the README's "Connecting to DingTalk" promises.
 */
const CORPUS = join(import.meta.dirname, '../../fixtures/dingtalk-real');
const read = (path: string) =>
  JSON.parse(readFileSync(join(CORPUS, path), 'utf8')) as Record<string, unknown>;

/** What the bot answers each sample with (a pattern its reply matches). */
const EXPECTED: Record<string, RegExp> = {
  'text-direct.json': /hello|你好|Hello/i,
  'picture-direct.json': /not pictures/,
  'video-direct.json': /not files, videos/,
  // Read through DingTalk's recognition (the command text is normalised: full-width commas fold).
  'audio-direct.json': /Unknown command `钉钉PaaS开放中心[,，]致力为企业/,
  'file-direct.json': /not files, videos/,
  // The text segments joined, the picture between them left out.
  'richtext-picture-direct.json':
    /Unknown command `这个问题示例图如下[:：]通过以上示意图可以明白完整的交互流程`/,
  'unknown-direct.json': /not files, videos/,
  'text-group.json': /Unknown command `测试数据`/,
  'richtext-mention-group.json': /^pong$/,
  'richtext-typed-group.json': /^pong$/,
  'richtext-picture-only-group.json': /not pictures/,
  'quoted-reply-group.json': /^pong$/,
  'outsider-group.json': /^pong$/,
};

/** A corpus sample as it would reach this bot: the sample's content, the simulated org's ids. */
function asPushed(sb: SimBot, sample: Record<string, unknown>, msgId: string): Record<string, unknown> {
  const state = sb.sim.state;
  const app = state.org.apps[0];
  const sender = state.user('bob');
  if (!app || !sender) throw new Error('the default org has no app or no bob');
  const group = sample.conversationType === '2' ? state.conversationId('ops') : undefined;
  const ours = robotMessagePayload(state, {
    app,
    sender,
    group,
    text: 'x',
    msgId,
    mentions: [],
    webhookBase: sb.sim.url,
  });
  const ids = [
    'conversationId',
    'chatbotCorpId',
    'chatbotUserId',
    'msgId',
    'senderId',
    'sessionWebhook',
    'sessionWebhookExpiredTime',
    'robotCode',
    'conversationTitle',
    'atUsers',
  ];
  const pushed: Record<string, unknown> = { ...sample };
  for (const k of ids) if (k in ours) pushed[k] = ours[k];
  // The sender keeps the sample's shape: an outsider has an empty senderStaffId.
  if (sample.senderStaffId !== '') pushed.senderStaffId = sender.userId;
  // The bot's @mention is what atUsers lists for it.
  if (Array.isArray(ours.atUsers)) pushed.atUsers = ours.atUsers;
  return pushed;
}

/** One bot over the given transport for a describe block, started once, stopped after it. */
function useSimBot(mode: 'stream' | 'http', plugins?: PluginDefinition[]): () => SimBot {
  let sb: SimBot | undefined;
  beforeAll(async () => {
    sb = await createSimBot({ mode, plugins });
  }, 30_000);
  afterAll(async () => sb?.stop());
  return () => {
    if (!sb) throw new Error('the bot did not start');
    return sb;
  };
}

const robotSamples = readdirSync(join(CORPUS, 'robot')).filter((f) => f.endsWith('.json'));

describe.each(['stream', 'http'] as const)('real robot payloads over %s', (mode) => {
  const bot = useSimBot(mode, [hello]);

  it('every sample in the corpus has an expected answer', () => {
    expect(robotSamples.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(robotSamples)('%s gets the documented answer', async (file) => {
    const sb = bot();
    const sample = read(`robot/${file}`);
    const payload = asPushed(sb, sample, `msgreal-${mode}-${file}`);
    const conversation = String(payload.conversationId);
    const cursor = sb.sim.client.cursor();
    const app = sb.sim.state.org.apps[0];
    if (!app) throw new Error('no app');
    if (mode === 'stream') {
      const acked = sb.sim.server.gateway.pushCallback(app.clientId, TOPIC_ROBOT, payload);
      expect(acked).not.toBe(false);
      expect(await acked).toBeDefined();
    } else {
      const r = await sb.sim.server.push.robot(app, payload);
      expect(r.status).toBe(200);
    }
    const reply = await sb.sim.client.nextReply(conversation, { after: cursor, timeoutMs: 10_000 });
    expect(`${reply.title ?? ''} ${reply.content}`.trim()).toMatch(EXPECTED[file] as RegExp);
  });
});

describe.each(['stream', 'http'] as const)('a real card callback over %s', (mode) => {
  const bot = useSimBot(mode, [hello]);

  it('runs the action of the published click, on a card the bot sent', async () => {
    const sb = bot();
    const card = await sb.sim.client.as('bob').ask('hello team', { group: 'ops' });
    const button = card.buttons.find((b) => b.text === 'Wave back')!;
    const sample = read('cards/action-callback.json');
    // The published click, on our card, by bob, with our button's params.
    const content = JSON.parse(String(sample.content));
    content.cardPrivateData.params = button.params;
    const payload = {
      ...sample,
      outTrackId: card.cardId,
      userId: 'bob',
      spaceId: sb.sim.state.conversationId('ops'),
      content: JSON.stringify(content),
    };
    const app = sb.sim.state.org.apps[0]!;
    let answer: unknown;
    if (mode === 'stream') {
      const pushed = sb.sim.server.gateway.pushCallback(app.clientId, TOPIC_CARD, payload, 2_000);
      if (pushed === false) throw new Error('no Stream connection took the click');
      answer = JSON.parse((await pushed)?.data ?? '{}');
    } else {
      const target = [...sb.sim.state.cardCallbacks.values()][0]!;
      answer = await sb.sim.server.push.card(app, target, payload);
    }
    expect(JSON.stringify(answer)).toContain('Waves: 1');
  });
});

describe.each(['stream', 'http'] as const)('real group events over %s', (mode) => {
  const bot = useSimBot(mode);

  /** A corpus event's business fields, its group mapped onto `ops`. */
  function fields(file: string): Record<string, unknown> {
    const raw = read(`events/${file}`);
    const data = (raw.data as Record<string, unknown> | undefined) ?? raw;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(data))
      if (!['EventType', 'EventTime', 'CorpId', 'BizId', 'eventId'].includes(k)) out[k] = v;
    if ('openConversationId' in out) out.openConversationId = bot().sim.state.conversationId('ops');
    return out;
  }

  it('follows a rename, refuses the legacy ChatId form with one log line, and marks a disbanded group gone', async () => {
    const sb = bot();
    const groups = sb.bot.resolve(GroupsToken);
    const ops = sb.sim.state.conversationId('ops') ?? '';
    await sb.sim.client.as('bob').ask('ping', { group: 'ops' });
    expect(groups.get(ops)?.installed).toBe(true);

    const renamed =
      mode === 'stream' ? fields('stream-chat-update-title.json') : fields('http-chat-update-title.json');
    expect((await sb.sim.client.api.event('chat_update_title', renamed)).acked).toBe(true);
    await sb.sim.client.until(() => groups.get(ops)?.title === '新群名', 3000, 'the rename');

    // The legacy form names the group by ChatId only: refused whole, said once in the log.
    const legacy = fields('http-legacy-chat-update-title.json');
    expect(
      (await sb.sim.client.api.event('chat_update_title', { ...legacy, Title: 'taken over' })).acked,
    ).toBe(true);
    await sb.sim.client.api.event('chat_update_title', { ...legacy, Title: 'again' });
    await new Promise((r) => setTimeout(r, 200));
    expect(groups.get(ops)?.title).toBe('新群名');
    expect(sb.logs.lines.filter((l) => l.includes('names the group by the legacy ChatId'))).toHaveLength(1);

    expect((await sb.sim.client.api.event('chat_disband', fields('http-chat-disband.json'))).acked).toBe(
      true,
    );
    await sb.sim.client.until(() => groups.get(ops)?.disbanded === true, 3000, 'the disband');
    expect(groups.get(ops)?.installed).toBe(false);
    expect(() => groups.resolve(ops)).toThrow(/was disbanded/);
    expect(() => groups.resolve('新群名')).toThrow(/is not bound to a group/);
  });
});

describe.each(['stream', 'http'] as const)('richText as the simulator sends it, over %s', (mode) => {
  const bot = useSimBot(mode);

  it('reads the command beside the @mention and a pasted picture, and says so when only pictures came', async () => {
    const sb = bot();
    const bob = sb.sim.client.as('bob');
    expect((await bob.ask('ping', { group: 'ops', format: 'richText', pictures: 1 })).content).toBe('pong');
    expect((await bob.ask('ping', { format: 'richText' })).content).toBe('pong');
    const pictures = await bob.ask('', { group: 'ops', format: 'richText', pictures: 2 });
    expect(pictures.content).toMatch(/only the words of a message, not pictures/);
  });
});
