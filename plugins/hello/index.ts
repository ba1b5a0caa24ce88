import { card, defineCommand, definePlugin } from 'dingops';

// The README's "Write your first plugin" shows this whole file (a test keeps them equal).
// Plugins import 'dingops' only, in this repository as outside it.
export default definePlugin({
  name: 'hello',
  description: { en: 'A greeting with a card button', 'zh-CN': '带卡片按钮的问候' },
  // The plugin's slice of bot.config.yaml (`plugins.hello`), validated at start-up.
  config: (z) =>
    z.strictObject({
      greeting: z.string().min(1).default('Hello'),
      maxWaves: z.number().int().positive().default(100),
    }),
  i18n: {
    en: {
      description: 'Greet someone; they can wave back from the card',
      name: 'Who to greet (default: you)',
      greeted: '{greeting}, {name}!',
      count: 'Greetings from {who} so far: {count}',
      wave: 'Wave back',
      waves: 'Waves: {count}',
      waved: '{who} waves back at {name} 👋',
      tooMany: 'That card has had enough waves.',
      waveDescription: 'Wave back at a greeting (what the card button does)',
    },
    'zh-CN': {
      description: '向某人问好；对方可以在卡片上挥手回应',
      name: '问候谁（默认：你自己）',
      greeted: '{greeting}，{name}！',
      count: '{who} 已问候 {count} 次',
      wave: '挥手回应',
      waves: '挥手次数：{count}',
      waved: '{who} 向 {name} 挥手回应 👋',
      tooMany: '这张卡片挥手次数已达上限。',
      waveDescription: '挥手回应一条问候（与卡片按钮相同）',
    },
  },
  setup(ctx) {
    // The card carries what it shows (who greeted, their count) in its button's params, so a
    // click by anyone redraws the same card with one more wave.
    const greetingCard = (name: string, who: string, count: number, waves: number) =>
      card({
        title: ctx.t('greeted', { greeting: ctx.config.greeting, name }),
        status: 'success',
        body: ctx.t('count', { who, count }),
        fields: [{ label: '👋', value: ctx.t('waves', { count: waves }) }],
        buttons: [
          {
            text: ctx.t('wave'),
            style: 'primary',
            action: { id: 'hello.wave', params: { name, who, count: String(count) } },
            // Where buttons cannot be shown (markdown), the command that does the same.
            command: `hello wave ${name}`,
          },
        ],
      });

    // A card action: clicking "Wave back" lands here, after the core's permission check.
    ctx.actions.register({
      name: 'wave',
      handler: async ({ action, params }) => {
        const key = `waves:${action.cardId}`;
        const waves = ((await ctx.store.kv.get<number>(key)) ?? 0) + 1;
        if (waves > ctx.config.maxWaves) return { message: ctx.t('tooMany') };
        await ctx.store.kv.set(key, waves, { ttlMs: 7 * 86_400_000 });
        const count = Number(params.count) || 0;
        return { card: greetingCard(params.name ?? '?', params.who ?? '?', count, waves) };
      },
    });

    ctx.commands.register(
      defineCommand({
        name: 'hello',
        aliases: ['hi', '你好'],
        description: { key: 'hello.description' },
        args: [{ name: 'name', type: 'rest', required: false, description: { key: 'hello.name' } }],
        examples: ['hello', 'hello world'],
        handler: async ({ args, caller }) => {
          const key = `count:${caller.userId}`;
          const count = ((await ctx.store.kv.get<number>(key)) ?? 0) + 1;
          await ctx.store.kv.set(key, count);
          return greetingCard(args.name ?? caller.nick, caller.nick, count, 0);
        },
        subcommands: [
          defineCommand({
            name: 'wave',
            description: { key: 'hello.waveDescription' },
            args: [{ name: 'name', type: 'rest', description: { key: 'hello.name' } }],
            handler: ({ args, caller }) => ctx.t('waved', { who: caller.nick, name: args.name }),
          }),
        ],
      }),
    );
  },
});
