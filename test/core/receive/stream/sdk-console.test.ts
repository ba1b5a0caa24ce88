import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSimBot, type SimBot } from '../../../helpers/sim-bot.js';

let sb: SimBot | undefined;
afterEach(async () => {
  await sb?.stop();
  sb = undefined;
  vi.restoreAllMocks();
});

describe("the Stream SDK's console lines", () => {
  it('go through the bot logger, not to the console; other console output is untouched', async () => {
    // The console as it was before the bot started: what reaches it is what a terminal shows.
    const shown: string[] = [];
    for (const m of ['log', 'info', 'warn', 'error'] as const)
      vi.spyOn(console, m).mockImplementation((...args: unknown[]) => void shown.push(args.join(' ')));
    sb = await createSimBot();
    console.info('a line of the host program');
    await sb.bot.stop('test');
    const sdk = sb.logs.lines.filter((l) => l.includes('"sdk":"dingtalk-stream"'));
    // One component per line (a repeated pino binding is written twice).
    for (const line of sdk) expect(line.match(/"component":/g) ?? []).toHaveLength(1);
    expect(sdk.some((l) => /connect success/.test(l))).toBe(true);
    expect(sdk.some((l) => l.includes('Disconnecting.'))).toBe(true);
    expect(shown.join('\n')).not.toMatch(/connect success|Disconnecting\./);
    expect(shown).toContain('a line of the host program');
  });
});
