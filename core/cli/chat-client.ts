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
  /** How long to wait for the bot's answer before taking the next line (default 10 s). */
  replyTimeoutMs?: number;
  /** Called once the prompt is up, with a way to draw it again (after a log line, say). */
  onReady?: (prompt: { redraw: () => void }) => void;
}

/**
 * `dingops chat`: a terminal DingTalk, talking to the simulator's test API. Type to send
 * (the bot is @mentioned in groups); bot cards show numbered buttons: type the number to
 * click. `/as bob`, `/group ops`, `/dm` switch who and where; `/quit` (or the end of the
 * input) leaves.
 */
export async function runChat(options: ChatOptions): Promise<void> {
  const out = options.output ?? process.stdout;
  let user = options.user;
  let group = options.group;
  let cursor = 0;
  let lastCard: SimMessage | undefined;
  const conversation = () => (group ? group : `dm:${user}`);
  const api = async <T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<T> => {
    const res = await fetch(`${options.sim}/sim/api${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    // The simulator's test API: its own answers, trusted as its documented shapes.
    const json = (await res.json()) as Record<string, unknown> & { error?: string };
    if (!res.ok) throw new Error(json.error ?? `HTTP ${res.status}`);
    return json as T;
  };
  const prompt = () => `${user}@${group ?? 'dm'}> `;
  // A terminal gets a prompt; piped input (a script) gets the bot's answers only.
  const interactive = (options.input ?? process.stdin) === process.stdin && process.stdin.isTTY === true;
  const rl = createInterface({
    input: options.input ?? process.stdin,
    output: out,
    prompt: interactive ? prompt() : '',
    terminal: interactive,
    historySize: 200,
  });
  // Taken now: readline reads its input at once, and lines read before the loop below starts
  // would be lost to a later iterator (piped input arrives all at once).
  const lines = rl[Symbol.asyncIterator]();
  // Once the chat ends the prompt stays gone: readline's prompt() resumes its input, and a
  // log line printed afterwards (the bot stopping, in `npm start`) would bring the prompt
  // back and keep the process waiting on the terminal.
  let closed = false;
  const redraw = () => {
    if (!closed) rl.prompt(true);
  };
  const show = (m: SimMessage) => {
    const lines = [
      m.title ? `[${m.kind}] ${m.title}` : `[${m.kind}]`,
      ...m.content.split('\n').map((l) => `  ${l}`),
    ];
    for (const [i, b] of m.buttons.entries())
      lines.push(`  (${i + 1}) ${b.text}${b.type === 'link' ? ` → ${b.url}` : ''}`);
    out.write(`\n${lines.join('\n')}\n`);
    if (m.buttons.some((b) => b.type === 'callback')) lastCard = m;
    redraw();
  };
  // Bot messages printed so far (a reply wait ends when this grows).
  let botSeen = 0;
  const sync = async (print: boolean) => {
    const r = await api(
      'GET',
      `/messages?conversation=${encodeURIComponent(conversation())}&after=${cursor}`,
    );
    for (const m of r.messages as SimMessage[])
      if (print && m.sender === 'bot') {
        show(m);
        botSeen++;
      }
    cursor = Number(r.cursor);
  };
  try {
    await sync(false);
  } catch (err) {
    // Nothing there (a dead port, a wrong URL): say which address and what to start.
    throw new Error(
      `cannot reach a simulator at ${options.sim} (${describeFailure(err)}): start one with \`npm start\` (the bot and its simulator) or \`dingops sim\`, or give its address with --sim`,
    );
  }
  // One sync at a time: the background poll and a reply wait must not print a message twice.
  let syncing: Promise<void> = Promise.resolve();
  const syncNow = () => {
    syncing = syncing.then(() => sync(true)).catch(() => undefined);
    return syncing;
  };
  const poll = setInterval(() => void syncNow(), options.pollMs ?? 300);
  /** Waits (a while) for the bot to answer what was just said, printing the answer. */
  const awaitReply = async (seenBefore: number) => {
    const waitMs = options.replyTimeoutMs ?? 10_000;
    for (const deadline = Date.now() + waitMs; Date.now() < deadline; ) {
      await syncNow();
      if (botSeen > seenBefore) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    out.write(`(no answer from the bot within ${Math.round(waitMs / 1000)} s)\n`);
  };
  options.onReady?.({ redraw });
  out.write(
    `Chatting with the bot on ${options.sim} as ${user} (${group ? `group ${group}` : 'direct message'}). /as <user>, /group <title>, /dm, a number clicks a button, /quit.\n`,
  );
  rl.prompt();
  // Lines are handled one after another, each once the bot answered the one before: piped
  // input (a script) keeps its order, and the end of the input ends the chat after the last reply.
  for await (const line of lines) {
    const text = line.trim();
    try {
      if (!text) {
        // nothing
      } else if (text === '/quit' || text === '/exit') {
        break;
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
          const card = await api<{
            title?: string;
            content: string;
            outTrackId?: string;
            buttons: SimButton[];
          }>('POST', `/cards/${encodeURIComponent(lastCard.cardId ?? '')}/actions`, {
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
        const seen = botSeen;
        const said = await api<{ delivered?: boolean }>('POST', '/messages', {
          conversation: group ?? null,
          sender: user,
          text,
        });
        // DingTalk had nobody to give it to: no bot is connected to this simulator.
        if (said.delivered === false)
          out.write(
            `! no bot received it: none is connected to the simulator at ${options.sim} (start one: \`npm start\`, or \`dingops start\` with DINGTALK_API_BASE=${options.sim})\n`,
          );
        else await awaitReply(seen);
      }
    } catch (err) {
      out.write(`! ${err instanceof Error ? err.message : String(err)}\n`);
    }
    if (interactive) {
      rl.setPrompt(prompt());
      rl.prompt();
    }
  }
  closed = true;
  clearInterval(poll);
  rl.close();
  await syncing;
}

/** A fetch failure in a few words: `ECONNREFUSED`, `ENOTFOUND`, else the message. */
function describeFailure(err: unknown): string {
  const cause = (err as { cause?: { code?: string } }).cause;
  return cause?.code ?? (err instanceof Error ? err.message : String(err));
}
