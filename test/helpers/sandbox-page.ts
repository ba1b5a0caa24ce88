import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { AM_TOKEN } from '../plugins/alerts/helpers.js';
import { nodeCommand } from '../plugins/tasks/helpers.js';
import { createSimBot, type SimBot } from './sim-bot.js';

/** Debian's Chromium (`.ci/run` installs it); another with DINGOPS_CHROMIUM. */
export const CHROMIUM = process.env.DINGOPS_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Browser tests run where Chromium is: always in CI (where a missing browser fails them
 * rather than skipping them), elsewhere when it is installed.
 */
export const browserTestsRun = existsSync(CHROMIUM) || process.env.CI === 'true';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // As root in a container Chromium needs --no-sandbox; the rest stop it reaching for
    // Google's services, which a closed network refuses at every start.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A page on the sandbox that records the page's own errors (a test fails on any). */
export async function openSandbox(
  browser: Browser,
  url: string,
  viewport: { width: number; height: number } = { width: 1400, height: 900 },
  /** The live indicator's text once connected (in the page's language). */
  live = 'live',
): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport });
  // Shorter than a test's own timeout, so a step that never comes names itself (the locator
  // it waited for) instead of the test only saying it ran out of time.
  page.setDefaultTimeout(10_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(url);
  await page.getByText(live, { exact: true }).waitFor();
  return { page, errors };
}

/** Says `text` in the open conversation as `as`, through the composer as a person would. */
export async function sayAs(page: Page, as: string, text: string): Promise<void> {
  const speaker = page.getByLabel('Speak as');
  // In a direct message the speaker is the user whose chat it is, and the picker is locked.
  if (await speaker.isEnabled()) await speaker.selectOption(as);
  else if ((await speaker.inputValue()) !== as)
    throw new Error(`only ${await speaker.inputValue()} speaks in this conversation, not ${as}`);
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
}

/**
 * A task that checks two hosts, then waits for a file before its last line, so a test (or a
 * screenshot) sees its card while the output is still streaming.
 */
export function stepsTask(gate: string): string {
  const script = `const fs = require("fs"); console.log("step 1: disk on web-1 ok (41% used)"); console.log("step 2: disk on web-2 ok (57% used)"); const t = setInterval(() => { if (fs.existsSync(process.argv[1])) { clearInterval(t); console.log("step 3: all done"); } }, 50);`;
  return `      steps:\n        description: Check the web hosts' disks\n        command: ${nodeCommand(script, gate)}\n        allow: { roles: [oncall] }\n`;
}

/**
 * The bot the sandbox is shown with: hello (a card with a button), tasks (a streamed run),
 * alerts into `ops` and war rooms (a scene group per incident), in English.
 */
export function sandboxBot(gate: string): Promise<SimBot> {
  return createSimBot({
    yaml: `people:\n  - { name: Alice, userId: alice }\n  - { name: Bob, userId: bob }\n  - { name: Carol, userId: carol }\nplugins:\n  hello: {}\n  alerts:\n    sources:\n      alertmanager: { token: ${AM_TOKEN} }\n    grouping: { groupWait: 100ms, groupInterval: 200ms, repeatInterval: 1h }\n    defaultRoute: { groups: [cid-ops], people: [Bob] }\n  warroom:\n    templateId: warroom-template\n    robotCode: dingops-warroom\n    oncall: [Carol]\n  tasks:\n    updateInterval: 200ms\n    tasks:\n${stepsTask(gate)}`,
  });
}
