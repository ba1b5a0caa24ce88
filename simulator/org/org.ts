import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { DEFAULT_ORG } from './default-org.js';

export interface SimUser {
  userId: string;
  name: string;
  mobile?: string;
  admin?: boolean;
  /** Users of another organisation (not linked to the app). */
  external?: boolean;
}

export interface SimGroup {
  openConversationId: string;
  title: string;
  members: string[];
  coolAppInstalled: boolean;
  /** Scene groups created through the API. */
  templateId?: string;
  ownerUserId?: string;
  /** A scene group's robot: its template's robot (the only robot that speaks there). */
  robotCode?: string;
  /** Disbanded by its owner (`chat_disband`): nobody can talk there any more. */
  disbanded?: boolean;
}

/**
 * A scene-group template (console: 场景群 > 群模板). It belongs to one app, and groups made
 * from it get its robot (群模板机器人), whose robotCode may differ from the app's own robot.
 */
export interface SimSceneGroupTemplate {
  templateId: string;
  /** The app that owns the template (the first app when omitted). */
  clientId?: string;
  /** The template's robot (the owning app's robotCode when omitted). */
  robotCode?: string;
  /** A disabled template refuses new groups like an unknown one. */
  disabled?: boolean;
}

export interface SimApp {
  clientId: string;
  clientSecret: string;
  robotCode: string;
  name: string;
  edition: 'standard' | 'professional' | 'exclusive';
  qps: number;
  monthlyQuota: number;
  mode: 'stream' | 'http';
  scopes: string[];
  /** HTTP mode: where robot messages and events are pushed. */
  callbackUrl?: string;
  eventUrl?: string;
  aesKey?: string;
  token?: string;
  /**
   * HTTP mode: robot messages arrive as `{"encrypt"}` envelopes, encrypted with `aesKey`
   * (the console's message encryption for the robot, docs/dingtalk-protocol.md §3.3).
   */
  encryptRobotMessages?: boolean;
  /** Whether the app is published (an unpublished app's gateway refuses connections). */
  published?: boolean;
}

export interface SimOrg {
  corpId: string;
  users: SimUser[];
  groups: SimGroup[];
  apps: SimApp[];
  cardTemplates: string[];
  sceneGroupTemplates: SimSceneGroupTemplate[];
}

/** Loads an org from a YAML or JSON file (the default org without one); missing optional fields get DingTalk-like defaults. */
export function loadOrg(path?: string): SimOrg {
  if (!path) return normalizeOrg(structuredClone(DEFAULT_ORG));
  const raw = parse(readFileSync(path, 'utf8')) as Partial<SimOrg>;
  return normalizeOrg(raw);
}

export function normalizeOrg(raw: Partial<SimOrg>): SimOrg {
  return {
    corpId: raw.corpId ?? 'dingsimcorp0001',
    users: raw.users ?? [],
    groups: (raw.groups ?? []).map((g) => ({
      ...g,
      members: [...g.members],
      coolAppInstalled: g.coolAppInstalled ?? true,
    })),
    apps: (raw.apps ?? []).map((a) => ({
      ...a,
      published: a.published ?? true,
      mode: a.mode ?? 'stream',
      edition: a.edition ?? 'standard',
      qps: a.qps ?? 20,
      monthlyQuota: a.monthlyQuota ?? 10_000,
      scopes: [...(a.scopes ?? [])],
    })),
    cardTemplates: raw.cardTemplates ?? [],
    sceneGroupTemplates: (raw.sceneGroupTemplates ?? []).map((t) => {
      const owner = (raw.apps ?? []).find((a) => a.clientId === t.clientId) ?? raw.apps?.[0];
      return { ...t, clientId: t.clientId ?? owner?.clientId, robotCode: t.robotCode ?? owner?.robotCode };
    }),
  };
}
