// `npm run screenshots`: the README's pictures of the simulator's sandbox, taken with the
// Chromium the test suite drives (Debian's `chromium`; for Chinese text and emoji also
// `fonts-noto-cjk` and `fonts-noto-color-emoji`). A bot with hello, alerts, war rooms and a
// task runs against an in-process simulator; the pictures go to docs/images/.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium, openSandbox, sandboxBot, sayAs } from '../helpers/sandbox-page.js';
import { amPayload, postAlerts } from '../plugins/alerts/helpers.js';

const out = new URL('../../docs/images/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'dingops-shots-'));
const gate = join(dir, 'go');
const [sb, browser] = await Promise.all([sandboxBot(gate), launchChromium()]);
try {
  const { page, errors } = await openSandbox(browser, sb.sim.url, { width: 1440, height: 900 });
  const log = page.getByRole('log', { name: 'Messages' }).getByRole('listitem');
  const say = (as: string, text: string) => sayAs(page, as, text);
  const shot = async (name: string) => {
    // Let the last update land and the log scroll before the picture.
    await page.waitForTimeout(400);
    await page.screenshot({ path: join(out, name) });
    console.log(`docs/images/${name}`);
  };

  await page.getByRole('link', { name: 'ops', exact: true }).click();
  await say('alice', 'hello team');
  const hello = log.filter({ hasText: 'Hello, team!' });
  await hello.getByRole('button', { name: 'Wave back' }).waitFor();
  await page.getByLabel('Speak as').selectOption('bob');
  await hello.getByRole('button', { name: 'Wave back' }).click();
  await log.filter({ hasText: 'Waves: 1' }).waitFor();
  const alert = amPayload(
    [{ name: 'CheckoutLatencyHigh', labels: { service: 'checkout', instance: 'web-1', env: 'prod' } }],
    '{}:{alertname="CheckoutLatencyHigh"}',
  );
  const posted = await postAlerts(sb, 'alertmanager', alert);
  if (posted.status !== 200) throw new Error(`alert refused: ${JSON.stringify(posted.body)}`);
  const incident = log.filter({ hasText: 'CheckoutLatencyHigh' }).first();
  await incident.getByRole('button', { name: /war room/i }).waitFor();
  await shot('sandbox-alert.png');

  await say('bob', 'run steps');
  await log.filter({ hasText: 'step 2: disk on web-2' }).waitFor();
  await shot('sandbox-task.png');
  writeFileSync(gate, 'go');
  await log.filter({ hasText: 'Succeeded' }).waitFor();

  await incident.getByRole('button', { name: /war room/i }).click();
  const room = page
    .getByRole('navigation', { name: 'Conversations' })
    .getByRole('link', { name: /CheckoutLatencyHigh/ });
  await room.click();
  await log.nth(1).waitFor();
  await say('carol', 'note rolled back checkout to v41');
  await log
    .filter({ hasText: 'rolled back' })
    .nth(1)
    .waitFor({ timeout: 5000 })
    .catch(() => undefined);
  await shot('sandbox-warroom.png');
  if (errors.length) throw new Error(`the page reported errors: ${errors.join('; ')}`);
} finally {
  await browser.close();
  await sb.stop();
  rmSync(dir, { recursive: true, force: true });
}
