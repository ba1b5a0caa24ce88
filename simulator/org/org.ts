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
  /** Whether the app is published (an unpublished app's gateway refuses connections). */
  published?: boolean;
}

export interface SimOrg {
  corpId: string;
  users: SimUser[];
  groups: SimGroup[];
  apps: SimApp[];
  cardTemplates: string[];
  sceneGroupTemplates: Array<{ templateId: string; robotCodes: string[] }>;
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
    sceneGroupTemplates: raw.sceneGroupTemplates ?? [],
  };
}
