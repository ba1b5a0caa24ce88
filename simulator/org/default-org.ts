import type { SimOrg } from './org.js';

/**
 * The simulator's default organisation (the documented contract in the README): the app
 * `dingops-demo`, users alice (admin), bob and carol, and the group `ops` (`cid-ops`) with
 * the cool app installed. A module rather than a file so built packages carry it.
 */
export const DEFAULT_ORG: SimOrg = {
  corpId: 'dingsimcorp0001',
  users: [
    { userId: 'alice', name: 'Alice', mobile: '13800000001', admin: true },
    { userId: 'bob', name: 'Bob', mobile: '13800000002' },
    { userId: 'carol', name: 'Carol', mobile: '13800000003' },
  ],
  groups: [
    {
      openConversationId: 'cid-ops',
      title: 'ops',
      members: ['alice', 'bob', 'carol'],
      coolAppInstalled: true,
    },
  ],
  apps: [
    {
      clientId: 'dingops-demo',
      clientSecret: 'dingops-demo-secret',
      robotCode: 'dingops-demo',
      name: 'dingops',
      edition: 'standard',
      qps: 20,
      monthlyQuota: 10_000,
      mode: 'stream',
      published: true,
      scopes: [
        'qyapi_robot_sendmsg',
        'Card.Instance.Write',
        'Card.Streaming.Write',
        'qyapi_chat_manage',
        'qyapi_chat_read',
        'qyapi_chat_base_read',
        'qyapi_get_member_by_mobile',
      ],
    },
  ],
  // The template an operator creates in the card platform for dingops cards.
  cardTemplates: ['dingops.default.schema'],
  // War rooms: the template's robot is its own (群模板机器人), as in most real setups.
  sceneGroupTemplates: [
    { templateId: 'warroom-template', clientId: 'dingops-demo', robotCode: 'dingops-warroom' },
  ],
};
