import { existsSync } from 'node:fs';
import { CHROMIUM, launchChromium, openSandbox } from '../helpers/sandbox-page.js';
import { createSimBot } from '../helpers/sim-bot.js';

export interface SandboxBench {
  /** Clicking a conversation of 1,000 messages until its newest is drawn. */
  openMs: number;
  /** 1,000 messages arriving live in the open conversation: until the last is drawn, and the page's longest task meanwhile. */
  floodMs: number;
  longestTaskMs: number;
  /** "Show earlier messages" until the older page is drawn. */
  earlierMs: number;
  /** Composer to the bot's answer drawn, `ping` → `pong`, one at a time. */
  roundTrip: { p50ms: number; p99ms: number; samples: number };
}

/** What the bench reads of the page's document (it compiles without the DOM's types). */
interface PageDocument {
  document: { querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }> };
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? 0;

/** The sandbox page in Chromium with a long conversation: is it still quick to use? Undefined without Chromium. */
export async function benchSandbox(): Promise<SandboxBench | undefined> {
  if (!existsSync(CHROMIUM)) return undefined;
  const sb = await createSimBot({ yaml: 'plugins:\n  hello: {}\n' });
  const browser = await launchChromium();
  try {
    const { state } = sb.sim;
    const add = (i: number) =>
      state.addMessage({
        conversation: 'cid-ops',
        sender: i % 2 ? 'alice' : 'bot',
        kind: i % 2 ? 'text' : 'markdown',
        title: i % 2 ? undefined : 'update',
        content:
          i % 2
            ? `message ${i} for @bob`
            : `### step ${i}\n**deploy** of \`web-${i % 7}\` is *done*: [log](https://ci.example.com/${i})\n- one\n- two`,
        buttons: [],
        atUserIds: i % 2 ? ['bob'] : [],
        via: i % 2 ? 'user' : 'sessionWebhook',
      });
    for (let i = 1; i <= 1000; i++) add(i);
    const { page } = await openSandbox(browser, sb.sim.url);
    await page.getByRole('link', { name: 'Alice', exact: true }).click();
    // The page's own measure of a busy main thread: the longest task while messages arrive.
    // (Strings: the bench compiles without the DOM's types.)
    await page.evaluate(`window.longest = 0;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.longest = Math.max(window.longest, e.duration);
      }).observe({ type: 'longtask' });`);

    let t0 = performance.now();
    await page.getByRole('link', { name: 'ops', exact: true }).click();
    await page.getByText('message 999 for', { exact: false }).waitFor();
    const openMs = performance.now() - t0;

    t0 = performance.now();
    await page.getByRole('button', { name: 'Show earlier messages' }).click();
    await page.getByText('message 899 for', { exact: false }).waitFor({ state: 'attached' });
    const earlierMs = performance.now() - t0;

    const rounds: number[] = [];
    const box = page.getByRole('textbox', { name: 'Message' });
    for (let i = 0; i < 20; i++) {
      const before = await page.locator('#messages > li').count();
      t0 = performance.now();
      await box.fill('ping');
      await box.press('Enter');
      await page.waitForFunction(
        (n) => {
          const items = (globalThis as unknown as PageDocument).document.querySelectorAll('#messages > li');
          return items.length >= n + 2 && /pong/.test(items[items.length - 1]?.textContent ?? '');
        },
        before,
        { polling: 'raf' },
      );
      rounds.push(performance.now() - t0);
    }

    await page.evaluate('window.longest = 0');
    t0 = performance.now();
    for (let i = 1001; i <= 2000; i++) add(i);
    await page.getByText('message 1999 for', { exact: false }).waitFor();
    const floodMs = performance.now() - t0;
    const longestTaskMs = Number(await page.evaluate('window.longest'));
    return {
      openMs,
      floodMs,
      longestTaskMs,
      earlierMs,
      roundTrip: { p50ms: pct(rounds, 0.5), p99ms: pct(rounds, 0.99), samples: rounds.length },
    };
  } finally {
    await browser.close();
    await sb.stop();
  }
}
