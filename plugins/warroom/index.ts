import { definePlugin, localTime } from 'dingops';
import { openedText, registerCommands } from './commands.js';
import { warroomConfigSchema } from './config.js';
import { warroomCatalogs } from './i18n.js';
import { warroomMigrations } from './migrations.js';
import { Responders } from './responders.js';
import { RoomStore, type WarroomTables } from './room-store.js';
import { WarRooms } from './war-rooms.js';

/**
 * War rooms (README, "War rooms"): one DingTalk scene group per incident, opened from the
 * incident card or `warroom open`, kept in step with the incident, closed with a postmortem
 * draft. Incidents come from the alerts plugin's `alerts.incidents` service.
 */
export default definePlugin({
  name: 'warroom',
  description: { en: 'War rooms: one DingTalk group per incident', 'zh-CN': '作战群：每个故障一个钉钉群' },
  config: warroomConfigSchema,
  dependsOn: ['alerts'],
  i18n: warroomCatalogs,
  migrations: warroomMigrations,
  permissions: {
    qyapi_chat_manage: { en: 'create war rooms and add members', 'zh-CN': '创建作战群并添加成员' },
    qyapi_chat_read: { en: "read a war room's link", 'zh-CN': '读取作战群链接' },
    qyapi_chat_base_read: { en: "read a war room's member count", 'zh-CN': '读取作战群成员数' },
    qyapi_get_member_by_mobile: { en: 'invite people by mobile number', 'zh-CN': '按手机号邀请成员' },
  },
  setup(ctx) {
    const timezone = ctx.timezone;
    const time = (ms: number) => localTime(ms, timezone);
    const actions = {
      ack: 'warroom.ack',
      resolve: 'warroom.resolve',
      close: 'warroom.close',
      open: 'warroom.open',
    };
    const store = new RoomStore(ctx.store.tables<WarroomTables>());
    const rooms = new WarRooms({
      ctx,
      store,
      responders: new Responders(ctx),
      actions,
      time,
      now: Date.now,
    });
    const incident = (p: Record<string, string>) => Number(p.incident);
    const actor = (a: { caller: { userId: string; nick: string } }) => ({
      userId: a.caller.userId,
      nick: a.caller.nick,
    });

    ctx.actions.register({
      name: 'open',
      command: 'warroom open',
      handler: async (a) => ({ message: openedText(a.t, await rooms.open(incident(a.params), a.caller)) }),
    });
    // The room card's buttons: the incident's own actions, answered with the room card.
    const roomCard = async (id: number) => {
      const room = await rooms.roomFor(id, '', '');
      const view = await rooms.incidents().get(id);
      return view ? rooms.summary(view, room) : undefined;
    };
    ctx.actions.register({
      name: 'ack',
      command: 'ack',
      handler: async (a) => {
        await rooms.incidents().checkResponder(incident(a.params), a.caller);
        await rooms.incidents().acknowledge(incident(a.params), actor(a));
        return { card: await roomCard(incident(a.params)) };
      },
    });
    ctx.actions.register({
      name: 'resolve',
      command: 'resolve',
      handler: async (a) => {
        await rooms.incidents().checkResponder(incident(a.params), a.caller);
        await rooms.incidents().resolve(incident(a.params), actor(a));
        return { card: await roomCard(incident(a.params)) };
      },
    });
    ctx.actions.register({
      name: 'close',
      command: 'warroom close',
      handler: async (a) => {
        // Closing a room is a change to the incident's response: the same people may (checked there).
        await rooms.close(incident(a.params), a.caller);
        return { card: await roomCard(incident(a.params)) };
      },
    });
    registerCommands(ctx, rooms, time);

    const incidents = rooms.incidents();
    const removeButton = incidents.addCardButtons((i) => [
      {
        text: ctx.t('button.open'),
        action: { id: actions.open, params: { incident: String(i.id) } },
        command: `warroom open ${i.id}`,
      },
    ]);
    ctx.onDispose(removeButton);
    ctx.events.on('alerts.incident.changed', (change) => rooms.onChange(change));

    ctx.schedule('sweep', ctx.config.statusReminder.check, () => rooms.sweep(), { runOnStart: true });
    ctx.status('rooms', async () => {
      const open = (await store.list('open')).length;
      const opening = (await store.list('opening')).length;
      return {
        name: { key: 'warroom.board.name' },
        // A creation still pending means DingTalk did not answer (retried by the sweep).
        ok: opening === 0,
        detail: {
          key: opening ? 'warroom.board.detailOpening' : 'warroom.board.detail',
          vars: { open, opening, template: ctx.config.templateId },
        },
      };
    });
  },
});
