import type { SimGroup, SimMessage } from '../../../simulator/index.js';
import { createSimBot, type SimBot } from '../../helpers/sim-bot.js';
import { AM_TOKEN, amPayload, cards, postAlerts } from '../alerts/helpers.js';

/**
 * People as an operator would configure them: Bob by mobile only (looked up through the
 * API), Dave with a mobile nobody in the organisation has, Erin with no contact at all.
 */
const PEOPLE = `people:\n  - { name: Bob, mobile: '13800000002' }\n  - { name: Carol, userId: carol }\n  - { name: Dave, mobile: '13900000009' }\n  - { name: Erin }\n`;

export interface WarroomBotOptions {
  /** Extra lines under `plugins.warroom` (4-space indent). */
  warroom?: string;
  templateId?: string;
  robotCode?: string;
  /** `plugins.alerts.responders` (default: the on-call role and Carol, the on-call engineer). */
  responders?: string;
}

/** Alerts (incidents routed to `ops` and Bob) plus war rooms, on the simulator's default org. */
export function warroomBot(options: WarroomBotOptions = {}): Promise<SimBot> {
  return createSimBot({
    yaml: `${PEOPLE}plugins:\n  alerts:\n    sources:\n      alertmanager: { token: ${AM_TOKEN} }\n    grouping:\n      groupWait: 100ms\n      groupInterval: 200ms\n      repeatInterval: 1h\n    responders: ${options.responders ?? '[role:oncall, carol]'}\n    defaultRoute:\n      groups: [cid-ops]\n      people: [Bob]\n  warroom:\n    templateId: ${options.templateId ?? 'warroom-template'}\n    robotCode: ${options.robotCode ?? 'dingops-warroom'}\n    oncall: [Carol, Dave, Erin]\n${options.warroom ?? ''}`,
  });
}

/** Fires one alert and waits for its incident card in `ops`. */
export async function incident(sb: SimBot, name = 'HighLatency'): Promise<SimMessage> {
  const r = await postAlerts(sb, 'alertmanager', amPayload([{ name }], `{}:{alertname="${name}"}`));
  if (r.status !== 200) throw new Error(`alert refused: ${JSON.stringify(r.body)}`);
  return sb.sim.client.until(() => cards(sb).find((c) => c.title?.includes(name)), 3000, 'the incident card');
}

/** Scene groups the simulator holds (rooms created through the API). */
export function sceneGroups(sb: SimBot): SimGroup[] {
  return sb.sim.client.state.org.groups.filter((g) => g.templateId);
}

/** Waits for the war room to exist and returns it. */
export function room(sb: SimBot, timeoutMs = 3000): Promise<SimGroup> {
  return sb.sim.client.until(() => sceneGroups(sb)[0], timeoutMs, 'the war room');
}

/** The bot's messages in a conversation whose content matches. */
export function botSaid(sb: SimBot, conversation: string, pattern: RegExp): SimMessage | undefined {
  return sb.sim.client.botMessages(conversation).find((m) => pattern.test(m.content));
}
