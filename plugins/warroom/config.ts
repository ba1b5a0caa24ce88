import { durationSetting } from 'dingops';
import { z } from 'zod';

export const warroomConfigSchema = z.strictObject({
  templateId: z
    .string()
    .min(1, 'set the group template id (developer console: 场景群 > 群模板)')
    .describe('the scene-group template war rooms are created from (console: 场景群 > 群模板)'),
  robotCode: z
    .string()
    .min(1)
    .optional()
    .describe("the template's robot (群模板机器人) that speaks in rooms; default: the app's robot"),
  owner: z
    .string()
    .min(1)
    .optional()
    .describe(
      'who owns every room (a name from `people`, a userId or a mobile); default: the responder who opens it',
    ),
  oncall: z
    .array(z.string())
    .default([])
    .describe('people invited to every room: names from `people`, userIds or mobiles'),
  statusReminder: z
    .strictObject({
      after: durationSetting('30m').describe(
        'ask for a status update after this long without one; 0s turns reminders off',
      ),
      check: z
        .string()
        .default('* * * * *')
        .describe('cron expression of how often rooms are checked (seconds allowed: */10 * * * * *)'),
    })
    .prefault({}),
  closeOnResolve: z
    .boolean()
    .default(true)
    .describe('close the room (final summary, postmortem) when the incident resolves'),
});

export type WarroomConfig = z.output<typeof warroomConfigSchema>;
