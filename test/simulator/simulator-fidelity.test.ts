import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errors, legacyErrors } from '../../simulator/errors.js';
import { httpEventBody } from '../../simulator/http-push.js';
import { type RunningSimulator, startSimulator } from '../../simulator/index.js';
import { createAndDeliver } from '../../simulator/openapi/cards.js';
import { cardCallbackPayload, robotMessagePayload } from '../../simulator/robot-push.js';
import { eventFrame } from '../../simulator/stream-gateway.js';

/**
 * The simulator must send and answer what DingTalk does: each of its payloads has the field set
 * and the field types of the published sample of the same kind (test/fixtures/dingtalk-real).
 * A field the simulator adds, drops or retypes fails here, so it cannot drift from DingTalk again.
 */
const CORPUS = join(import.meta.dirname, '../fixtures/dingtalk-real');
const sample = (path: string) =>
  JSON.parse(readFileSync(join(CORPUS, path), 'utf8')) as Record<string, unknown>;

/** Every field path with its JSON type (`a.b: string`); arrays contribute their elements' shapes. */
function shape(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) {
    const inner = new Set(value.flatMap((v) => shape(v, `${path}[]`)));
    return [`${path}: array`, ...inner];
  }
  if (value && typeof value === 'object')
    return [
      ...(path ? [`${path}: object`] : []),
      ...Object.entries(value).flatMap(([k, v]) => shape(v, path ? `${path}.${k}` : k)),
    ];
  return [`${path}: ${value === null ? 'null' : typeof value}`];
}
const sorted = (v: unknown) => [...new Set(shape(v))].sort();

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startSimulator({ pingIntervalMs: 0 });
});
afterAll(async () => sim.stop());

function robot(group: boolean, extra: { format?: 'richText'; pictures?: number } = {}) {
  const app = sim.state.org.apps[0];
  const sender = sim.state.user('bob');
  if (!app || !sender) throw new Error('default org');
  return robotMessagePayload(sim.state, {
    app,
    sender,
    group: group ? sim.state.conversationId('ops') : undefined,
    text: 'ping',
    msgId: 'msgfidelity',
    mentions: [],
    webhookBase: sim.url,
    ...extra,
  });
}

describe('the simulator against published DingTalk payloads', () => {
  it('sends direct and group text messages with the fields DingTalk sends', () => {
    expect(sorted(robot(false))).toEqual(sorted(sample('robot/text-direct.json')));
    // The protocol page's group sample spells createAt as `createA` (a typo of the page; the
    // message-type page's samples have createAt): compared as createAt.
    const group = sample('robot/text-group.json');
    group.createAt = group.createA;
    delete group.createA;
    // Its bot mention has no staffId; mentions of people carry one (docs/dingtalk-protocol.md §2).
    expect(sorted(robot(true))).toEqual(sorted(group));
  });

  it('sends richText with the segment shapes DingTalk uses', () => {
    const ours = robot(true, { format: 'richText', pictures: 1 });
    const theirs = sample('robot/richtext-mention-group.json');
    const segmentShapes = (p: Record<string, unknown>) =>
      ((p.content as { richText: Array<Record<string, unknown>> }).richText ?? []).map((s) =>
        Object.keys(s).sort().join(','),
      );
    // Text segments as in the mention sample, the picture as in DingTalk's own richText sample.
    const published = new Set([
      ...segmentShapes(theirs),
      ...segmentShapes(sample('robot/richtext-picture-direct.json')),
    ]);
    for (const s of segmentShapes(ours)) expect(published).toContain(s);
    const { content: _a, ...ourFields } = ours;
    const { content: _b, ...theirFields } = theirs;
    theirFields.createAt = theirFields.createA;
    delete theirFields.createA;
    expect(sorted(ourFields)).toEqual(sorted(theirFields));
  });

  it('sends card callbacks with the fields of the SDK and the document', () => {
    const ours = cardCallbackPayload(sim.state, 'out-1', 'cid-ops', 'bob', { action: 'hello.wave' });
    expect(sorted(ours)).toEqual(sorted(sample('cards/action-callback.json')));
  });

  it('pushes events as DingTalk does, over Stream and over HTTP', () => {
    const stream = sample('events/stream-chat-update-title.json');
    const frame = eventFrame('app', 'corp', 'mid', 'chat_update_title', stream.data);
    expect(Object.keys(frame.headers).sort()).toEqual(Object.keys(stream.headers as object).sort());
    const http = sample('events/http-chat-update-title.json');
    const { EventType: _t, EventTime: _e, CorpId: _c, BizId: _b, eventId: _i, ...business } = http;
    expect(sorted(httpEventBody('corp', 'chat_update_title', business))).toEqual(sorted(http));
  });

  it("plays the rename the way DingTalk's event carries it", async () => {
    let pushed: unknown;
    const gateway = sim.server.gateway;
    const original = gateway.pushEvent.bind(gateway);
    gateway.pushEvent = (app, type, data) => {
      pushed = data;
      return original(app, type, data);
    };
    try {
      await sim.client.api.groupChange('ops', 'rename', { title: 'ops renamed' });
      expect(sorted(pushed)).toEqual(sorted(sample('events/stream-chat-update-title.json').data));
      await sim.client.api.groupChange('ops renamed', 'rename', { title: 'ops' });
    } finally {
      gateway.pushEvent = original;
    }
  });

  it('answers card deliveries, delivered or refused inside a 200, as the OpenAPI SDK describes', () => {
    const app = sim.state.org.apps[0];
    if (!app) throw new Error('default org');
    const template = sim.state.org.cardTemplates[0] ?? '';
    const ok = createAndDeliver(sim.state, app, {
      outTrackId: 'fidelity-ok',
      cardTemplateId: template,
      openSpaceId: `dtv1.card//IM_GROUP.${sim.state.conversationId('ops')}`,
      cardData: { cardParamMap: {} },
    });
    expect(sorted(ok)).toEqual(sorted(sample('openapi/create-and-deliver-ok.json').body));
    const ops = sim.state.group('ops');
    if (!ops) throw new Error('no ops');
    ops.coolAppInstalled = false;
    try {
      const refused = createAndDeliver(sim.state, app, {
        outTrackId: 'fidelity-refused',
        cardTemplateId: template,
        openSpaceId: `dtv1.card//IM_GROUP.${ops.openConversationId}`,
        cardData: { cardParamMap: {} },
      });
      const theirs = sample('openapi/create-and-deliver-failed-recipient.json').body;
      expect(sorted(refused)).toEqual(sorted(theirs));
      expect(refused.result.deliverResults[0]?.success).toBe(false);
    } finally {
      ops.coolAppInstalled = true;
    }
  });

  it('answers errors with the bodies DingTalk answers them with', () => {
    expect(sorted(errors.qps().body())).toEqual(sorted(sample('openapi/new-api-qps-403.json').body));
    expect(errors.qps().status).toBe(sample('openapi/new-api-qps-403.json').status);
    expect(sorted(errors.monthly(10_001, 10_000).body())).toEqual(
      sorted(sample('openapi/new-api-quota-403.json').body),
    );
    expect(sorted(errors.permission('Card.Instance.Write').body())).toEqual(
      sorted(sample('openapi/new-api-permission-403.json').body),
    );
    for (const [ours, file] of [
      [legacyErrors.qps(), 'openapi/legacy-88-90018.json'],
      [legacyErrors.monthly(), 'openapi/legacy-88-90020-quota.json'],
      [legacyErrors.invalidToken(), 'openapi/legacy-88-40014-token.json'],
    ] as const) {
      const theirs = sample(file).body as Record<string, unknown>;
      expect(sorted(ours.body()), file).toEqual(sorted(theirs));
      expect(ours.body().errcode, file).toBe(theirs.errcode);
      expect(ours.body().sub_code, file).toBe(theirs.sub_code);
    }
  });
});
