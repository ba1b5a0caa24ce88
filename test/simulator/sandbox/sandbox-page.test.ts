import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  browserTestsRun,
  launchChromium,
  openSandbox,
  sandboxBot,
  sayAs,
} from '../../helpers/sandbox-page.js';
import type { SimBot } from '../../helpers/sim-bot.js';
import { storeIndependentPass } from '../../helpers/storage.js';

/**
 * The sandbox as a plugin author uses it: a real Chromium on the simulator's page, driven by
 * role and name as a screen reader user would, with a bot on the other side. The page does
 * not depend on the bot's store, so it runs once (with the SQLite project).
 */
describe.runIf(browserTestsRun && storeIndependentPass)('the sandbox in a browser', () => {
  let sb: SimBot;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  const dir = mkdtempSync(join(tmpdir(), 'dingops-sandbox-'));
  const gate = join(dir, 'go');

  beforeAll(async () => {
    [sb, browser] = await Promise.all([sandboxBot(gate), launchChromium()]);
    ({ page, errors } = await openSandbox(browser, sb.sim.url));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await sb?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const messages = () => page.getByRole('log', { name: 'Messages' }).getByRole('listitem');
  const say = (as: string, text: string) => sayAs(page, as, text);

  it('alice says hello team in ops and sees the card; bob clicks its button and the card changes in place', async () => {
    await page.getByRole('link', { name: 'ops', exact: true }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('ops');
    await say('alice', 'hello team');
    const card = messages().filter({ hasText: 'Hello, team!' });
    await card.getByRole('button', { name: 'Wave back' }).waitFor();
    expect(await card.textContent()).toContain('Waves: 0');
    // What alice wrote shows the bot's @mention, as DingTalk draws it.
    expect(await messages().filter({ hasText: 'hello team' }).first().textContent()).toContain('@dingops');
    const before = await messages().count();
    const id = await card.getAttribute('id');

    await say('bob', 'hello team');
    await expect.poll(() => messages().filter({ hasText: 'Hello, team!' }).count()).toBe(2);
    const first = page.locator(`#${id}`);
    await first.getByRole('button', { name: 'Wave back' }).click();
    await expect.poll(() => first.textContent()).toContain('Waves: 1');
    // The same message, redrawn: no new one in the conversation for the click.
    expect(await messages().count()).toBe(before + 2);
    // The simulator agrees that bob's click reached the bot as bob.
    const cardId = sb.sim.client.botMessages('ops').find((m) => m.title === 'Hello, team!')?.cardId ?? '';
    expect(sb.sim.client.card(cardId).params.fields).toContain('Waves: 1');
  });

  it("watches a task's output stream into its card", async () => {
    await say('bob', 'run steps');
    const run = messages().filter({ hasText: 'steps · run #1' });
    const stream = run.locator('[data-stream]');
    await expect.poll(() => stream.textContent(), { timeout: 10_000 }).toContain('step 2: disk on web-2 ok');
    // The run is still going: its second line is not there, and the card says it is streaming.
    expect(await stream.textContent()).not.toContain('step 3');
    expect(await stream.getAttribute('class')).toContain('live');
    writeFileSync(gate, 'go');
    await expect.poll(() => stream.textContent(), { timeout: 10_000 }).toContain('step 3: all done');
    await expect.poll(() => run.textContent(), { timeout: 10_000 }).toContain('Succeeded');
    expect(await messages().filter({ hasText: 'steps · run #1' }).count()).toBe(1);
  });

  it('a throttling fault from the panel shows in the call log, with the retry that went through', async () => {
    const panel = page.getByRole('complementary', { name: 'DingTalk side' });
    await panel.getByLabel('Throttle next').fill('1');
    await panel.getByLabel('Only paths containing').fill('/v1.0/card/instances/createAndDeliver');
    await panel.getByRole('button', { name: 'Apply faults' }).click();
    await expect.poll(() => panel.getByRole('status').last().textContent()).toContain('throttle the next 1');
    await say('carol', 'hello again');
    await messages()
      .filter({ hasText: 'Hello, again!' })
      .getByRole('button', { name: 'Wave back' })
      .waitFor();
    const rows = panel.getByRole('table', { name: 'OpenAPI calls' }).getByRole('row');
    const log = await rows.allTextContents();
    const deliveries = log.filter((r) => r.includes('createAndDeliver'));
    // Newest first: the retry answered 200 above the throttled attempt.
    const throttled = deliveries.findIndex((r) => r.includes('QpsLimit'));
    expect(throttled).toBeGreaterThan(0);
    expect(deliveries[throttled]).toContain('403');
    expect(deliveries[throttled]).toContain('throttled');
    expect(deliveries[throttled - 1]).toContain('200');
    // The fault is used up, and the panel says so.
    await expect.poll(() => panel.getByRole('status').last().textContent()).toContain('No faults');
  });

  it('shows a war room as the bot creates it, and removing a scope from the panel reaches the app', async () => {
    const { amPayload, postAlerts } = await import('../../plugins/alerts/helpers.js');
    await postAlerts(sb, 'alertmanager', amPayload([{ name: 'DiskFull' }], '{}:{alertname="DiskFull"}'));
    const incident = messages().filter({ hasText: 'DiskFull' }).first();
    // Bob, a responder (the incident was sent to him), clicks: opening a room is a responder's.
    const speaker = page.getByLabel('Speak as');
    if (await speaker.isEnabled()) await speaker.selectOption('bob');
    await incident.getByRole('button', { name: /war room/i }).click();
    const link = page
      .getByRole('navigation', { name: 'Conversations' })
      .getByRole('link', { name: /DiskFull/ });
    await link.waitFor({ timeout: 10_000 });
    await link.click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toMatch(/DiskFull/);
    await messages().first().waitFor();

    const panel = page.getByRole('complementary', { name: 'DingTalk side' });
    await panel.getByRole('checkbox', { name: 'qyapi_get_member_by_mobile' }).uncheck();
    await sb.sim.client.until(
      () => !sb.sim.state.org.apps[0]?.scopes.includes('qyapi_get_member_by_mobile'),
      5000,
      'the scope to be removed',
    );
    await panel.getByRole('checkbox', { name: 'qyapi_get_member_by_mobile' }).check();
    await sb.sim.client.until(
      () => sb.sim.state.org.apps[0]?.scopes.includes('qyapi_get_member_by_mobile'),
      5000,
      'the scope to be granted again',
    );
  });

  it('stays usable with 1,000 messages in a conversation: the newest shown, the rest a click away', async () => {
    const { state } = sb.sim;
    for (let i = 1; i <= 1000; i++)
      state.addMessage({
        conversation: 'cid-dm-carol',
        sender: i % 2 ? 'carol' : 'bot',
        kind: i % 2 ? 'text' : 'markdown',
        title: i % 2 ? undefined : `m${i}`,
        content:
          i % 2 ? `message ${i}` : `**message ${i}** with \`code\` and a [link](https://example.com/${i})`,
        buttons: [],
        atUserIds: [],
        via: i % 2 ? 'user' : 'sessionWebhook',
      });
    // Every one of them reached the page live (an unread count), before the conversation opens.
    await page.getByText('1000 new', { exact: true }).waitFor();
    await page.getByRole('link', { name: 'Carol', exact: true }).click();
    await page.getByText('message 1000', { exact: false }).waitFor();
    // The page draws a bounded slice, not the whole history.
    const drawn = await messages().count();
    expect(drawn).toBeLessThan(200);
    await say('carol', 'ping');
    await expect.poll(() => messages().last().textContent(), { timeout: 10_000 }).toMatch(/pong/i);
    // Earlier messages come back a page at a time, down to the first. An impatient double
    // click loads one page, not the same page twice.
    const earlier = page.getByRole('button', { name: 'Show earlier messages' });
    for (let pages = 0; (await earlier.isVisible()) && pages < 20; pages++) {
      const shown = await messages().count();
      await (pages === 0 ? earlier.dblclick() : earlier.click());
      await expect.poll(() => messages().count()).toBeGreaterThan(shown);
    }
    await page.getByText('message 1', { exact: true }).waitFor();
    expect(await earlier.isVisible()).toBe(false);
    const seqs = await messages().evaluateAll((nodes) => nodes.map((n) => n.id));
    expect(seqs.length).toBeGreaterThanOrEqual(1002);
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('speaks Chinese when asked, and keeps the choice', async () => {
    const zh = await openSandbox(browser, `${sb.sim.url}/?lang=zh-CN`, undefined, '实时');
    try {
      const nav = zh.page.getByRole('navigation', { name: '会话' });
      await nav.getByRole('link', { name: 'ops', exact: true }).click();
      await zh.page.getByRole('textbox', { name: '消息' }).fill('ping');
      await zh.page.getByRole('button', { name: '发送' }).click();
      await zh.page.getByRole('log', { name: '消息' }).getByText('pong').last().waitFor();
      const side = zh.page.getByRole('complementary', { name: '钉钉侧' });
      expect(await side.getByRole('button', { name: '应用故障' }).count()).toBe(1);
      expect(await zh.page.evaluate('document.documentElement.lang')).toBe('zh-CN');
      // Chosen from the page's own picker, it stays chosen without the query.
      await zh.page.getByLabel('语言').selectOption('en');
      await zh.page.getByRole('textbox', { name: 'Message' }).waitFor();
      await zh.page.goto(sb.sim.url);
      await zh.page.getByRole('button', { name: 'Send' }).waitFor();
      expect(zh.errors).toEqual([]);
    } finally {
      await zh.page.close();
    }
  });

  it('the page itself reported no error', () => {
    expect(errors).toEqual([]);
  });
});
