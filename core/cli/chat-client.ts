import { createInterface } from 'node:readline';

interface SimButton {
  text: string;
  type: 'callback' | 'link';
  url?: string;
  params?: Record<string, string>;
}

interface SimMessage {
  seq: number;
  sender: string;
  kind: string;
  title?: string;
  content: string;
  cardId?: string;
  buttons: SimButton[];
}

export interface ChatOptions {
  /** The simulator's base URL. */
  sim: string;
  user: string;
  /** Group title; undefined for a direct message to the bot. */
  group?: string;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  pollMs?: number;
}

/**
 * `dingops chat`: a terminal DingTalk, talking to the simulator's test API. Type to send
 * (the bot is @mentioned in groups); bot cards show numbered buttons: type the number to
 * click. `/as bob`, `/group ops`, `/dm` switch who and where; `/quit` leaves.
 */
export async function runChat(options: ChatOptions): Promise<void> {
  const out = options.output ?? process.stdout;
  let user = options.user;
  let group = options.group;
  let cursor = 0;
  let lastCard: SimMessage | undefined;
  const conversation = () => (group ? group : `dm:${user}`);
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${options.sim}/sim/api${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = (await res.json()) as Record<string, any>;
    if (!res.ok) throw new Error(json.error ?? `HTTP ${res.status}`);
    return json;
  };
  const prompt = () => `${user}@${group ?? 'dm'}> `;
  const rl = createInterface({
    input: options.input ?? process.stdin,
    output: out,
    prompt: prompt(),
    terminal: (options.input ?? process.stdin) === process.stdin && process.stdin.isTTY === true,
    historySize: 200,
  });
  const show = (m: SimMessage) => {
    const lines = [
      m.title ? `[${m.kind}] ${m.title}` : `[${m.kind}]`,
      ...m.content.split('\n').map((l) => `  ${l}`),
    ];
    for (const [i, b] of m.buttons.entries())
      lines.push(`  (${i + 1}) ${b.text}${b.type === 'link' ? ` → ${b.url}` : ''}`);
    out.write(`\n${lines.join('\n')}\n`);
    if (m.buttons.some((b) => b.type === 'callback')) lastCard = m;
    rl.prompt(true);
  };
  const sync = async (print: boolean) => {
    const r = await api(
      'GET',
      `/messages?conversation=${encodeURIComponent(conversation())}&after=${cursor}`,
    );
    for (const m of r.messages as SimMessage[]) if (print && m.sender === 'bot') show(m);
    cursor = r.cursor;
  };
  await sync(false);
  const poll = setInterval(() => void sync(true).catch(() => undefined), options.pollMs ?? 300);
  out.write(
    `Chatting with the bot on ${options.sim} as ${user} (${group ? `group ${group}` : 'direct message'}). /as <user>, /group <title>, /dm, a number clicks a button, /quit.\n`,
  );
  rl.prompt();
  await new Promise<void>((resolve) => {
    rl.on('line', async (line) => {
      const text = line.trim();
      try {
        if (!text) {
          // nothing
        } else if (text === '/quit' || text === '/exit') {
          rl.close();
          return;
        } else if (text.startsWith('/as ')) {
          user = text.slice(4).trim();
          cursor = 0;
          await sync(false);
        } else if (text.startsWith('/group ')) {
          group = text.slice(7).trim();
          cursor = 0;
          await sync(false);
        } else if (text === '/dm') {
          group = undefined;
          cursor = 0;
          await sync(false);
        } else if (/^\d+$/.test(text) && lastCard) {
          const b = lastCard.buttons[Number(text) - 1];
          if (!b) out.write(`no button ${text}\n`);
          else if (b.type === 'link') out.write(`(opens ${b.url})\n`);
          else {
            const card = await api('POST', `/cards/${encodeURIComponent(lastCard.cardId!)}/actions`, {
              sender: user,
              params: b.params ?? {},
            });
            show({
              seq: 0,
              sender: 'bot',
              kind: 'card',
              title: card.title,
              content: card.content,
              cardId: card.outTrackId,
              buttons: card.buttons,
            });
          }
        } else {
          await api('POST', '/messages', { conversation: group ?? null, sender: user, text });
          await sync(true);
        }
      } catch (err) {
        out.write(`! ${err instanceof Error ? err.message : String(err)}\n`);
      }
      rl.setPrompt(prompt());
      rl.prompt();
    });
    rl.on('close', () => resolve());
  });
  clearInterval(poll);
}
