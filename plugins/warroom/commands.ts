import { card, type PluginContext, present, UserError } from 'dingops';
import type { WarroomConfig } from './config.js';
import type { WarRooms } from './war-rooms.js';

const incidentArg = {
  name: 'incident',
  type: 'int',
  min: 1,
  required: false,
  description: 'warroom.arg.incident',
} as const;
const incidentOption = {
  name: 'incident',
  type: 'int',
  min: 1,
  description: 'warroom.arg.incident',
} as const;

/** `warroom open|invite|status|close`, and `note`, `timeline`, `postmortem` for the room's incident. */
export function registerCommands(
  ctx: PluginContext<WarroomConfig>,
  rooms: WarRooms,
  time: (ms: number) => string,
) {
  const name = (userId: string) => ctx.people.find(userId)?.name ?? userId;
  // The room of `--incident`/the argument, else of the conversation the command was typed in.
  const roomOf = (c: {
    args: { incident?: unknown };
    message: { conversation: { id: string } };
    command: string;
  }) => rooms.roomFor(c.args.incident as number | undefined, c.message.conversation.id, c.command);

  ctx.commands.register({
    name: 'warroom',
    aliases: ['作战群'],
    description: 'warroom.cmd.warroom',
    subcommands: [
      {
        name: 'open',
        description: 'warroom.cmd.open',
        args: [{ ...incidentArg, required: true }],
        sideEffects: true,
        handler: async (c) => {
          const r = await rooms.open(Number(c.args.incident), c.caller);
          return openedText(c.t, r);
        },
      },
      {
        name: 'invite',
        description: 'warroom.cmd.invite',
        args: [{ name: 'people', type: 'string', variadic: true, description: 'warroom.arg.people' }],
        options: [incidentOption],
        examples: ['warroom invite Bob 13800000003', 'warroom invite carol --incident 12'],
        sideEffects: true,
        handler: async (c) => {
          const room = await roomOf(c);
          const r = await rooms.invite(room, c.args.people as string[], c.caller);
          const lines = [
            r.added.length
              ? c.t('warroom.invited', { count: r.added.length, names: r.added.map(name).join(', ') })
              : c.t('warroom.alreadyMembers'),
          ];
          if (r.unresolved.length)
            lines.push(c.t('warroom.notInvited', { list: rooms.describe(r.unresolved) }));
          return lines.join('\n');
        },
      },
      {
        name: 'status',
        description: 'warroom.cmd.status',
        args: [incidentArg],
        handler: async (c) => {
          const room = await roomOf(c);
          const view = await rooms.incidents().get(room.incidentId);
          const count = await rooms.memberCount(room);
          return card({
            title: room.title,
            status: room.status === 'closed' ? 'success' : 'info',
            fields: [
              {
                label: c.t('warroom.field.room'),
                value: `${c.t(`warroom.roomStatus.${room.status}`)}${room.url ? ` · [${room.title}](${room.url})` : ''}`,
              },
              {
                label: c.t('warroom.field.status'),
                value: view ? c.t(`warroom.status.${view.status}`) : '-',
              },
              {
                label: c.t('warroom.field.members'),
                value: `${typeof count === 'number' ? count : room.members.length}: ${room.members.map((m) => `@${name(m)}`).join(', ')}`,
              },
              {
                label: c.t('warroom.field.lastUpdate'),
                value:
                  room.lastUpdateAt !== undefined
                    ? c.t('warroom.lastUpdate', {
                        when: time(room.lastUpdateAt),
                        who: name(room.lastUpdateBy ?? ''),
                      })
                    : c.t('warroom.noUpdate'),
              },
            ],
            footer: typeof count === 'string' ? count : undefined,
          });
        },
      },
      {
        name: 'close',
        description: 'warroom.cmd.close',
        args: [incidentArg],
        sideEffects: true,
        handler: async (c) => {
          const room = await roomOf(c);
          await rooms.close(room.incidentId, c.caller);
          return c.t('warroom.closed', { title: room.title, id: room.incidentId });
        },
      },
    ],
  });

  ctx.commands.register({
    name: 'note',
    aliases: ['记录'],
    description: 'warroom.cmd.note',
    args: [{ name: 'text', type: 'string', variadic: true, description: 'warroom.arg.text' }],
    options: [incidentOption],
    examples: ['note rolled back to v1.4.2', 'note "todo: alert on queue depth" --incident 12'],
    sideEffects: true,
    handler: async (c) => {
      const room = await roomOf(c);
      await rooms.note(room, c.caller, (c.args.text as string[]).join(' '));
      return c.t('warroom.noted', { id: room.incidentId });
    },
  });

  ctx.commands.register({
    name: 'timeline',
    description: 'warroom.cmd.timeline',
    args: [incidentArg],
    handler: async (c) => {
      const id =
        c.args.incident ?? (await rooms.roomFor(undefined, c.message.conversation.id, c.command)).incidentId;
      const view = await rooms.incidents().get(id);
      if (!view) throw new UserError('warroom.noIncident', { id });
      const entries = await rooms.incidents().timeline(id);
      return card({
        title: `${c.t('warroom.section.timeline')} · #${id} ${view.title}`,
        status: 'info',
        sections: [
          {
            items: entries.map(
              (e) =>
                `${time(e.at)} **${name(e.actor)}** ${kindText(c.t(`alerts.timeline.${e.kind}`), e.kind)}${e.detail ? `: ${e.detail}` : ''}`,
            ),
          },
        ],
      });
    },
  });

  ctx.commands.register({
    name: 'postmortem',
    aliases: ['复盘'],
    description: 'warroom.cmd.postmortem',
    args: [incidentArg],
    handler: async (c) => {
      const room = await roomOf(c);
      if (room.postmortem) return { markdown: room.postmortem, title: room.title };
      // Still open: today's draft, marked as not final (stored when the room closes).
      const view = present(await rooms.incidents().get(room.incidentId), `incident ${room.incidentId}`);
      const draft = await rooms.draft(room, view);
      return {
        markdown: `> ${c.t('warroom.noPostmortem', { id: room.incidentId })}\n\n${draft}`,
        title: room.title,
      };
    },
  });
}

export function openedText(
  t: (key: string, vars?: Record<string, unknown>) => string,
  r: {
    room: { title: string; incidentId: number; status: string; members: string[] };
    created: boolean;
    notes: string[];
  },
): string {
  const head = r.created
    ? t('warroom.opened', { title: r.room.title, count: r.room.members.length })
    : t('warroom.exists', {
        id: r.room.incidentId,
        title: r.room.title,
        status: t(`warroom.roomStatus.${r.room.status}`),
      });
  return [head, ...r.notes].join('\n');
}

/** The alerts plugin's name for a timeline event (its catalog), or the kind itself without one. */
function kindText(translated: string, kind: string): string {
  return translated.startsWith('alerts.timeline.') ? kind : translated;
}
