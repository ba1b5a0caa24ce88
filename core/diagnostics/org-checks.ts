import type { CoreCheckDeps } from './check-deps.js';
import type { CheckResult, DiagnosticCheck } from './diagnostics.js';

const normalize = (m: string) => m.replace(/[\s-]/g, '');

/** The organisation as the bot sees it: groups, people, the monthly quota. */
export function orgChecks(d: CoreCheckDeps): DiagnosticCheck[] {
  return [
    {
      id: 'groups',
      run: ({ t }) => {
        const installed = d.groups.list().filter((g) => g.installed);
        if (!installed.length)
          return {
            id: 'groups',
            severity: 'warn',
            message: t('doctor.groups.none'),
            where: t('doctor.console.coolApp'),
            fix: t('doctor.groups.noneFix'),
          };
        return {
          id: 'groups',
          severity: 'ok',
          message: t('doctor.groups.ok', {
            count: installed.length,
            titles: installed
              .map((g) => g.title)
              .slice(0, 10)
              .join(', '),
          }),
        };
      },
    },
    {
      // Which group each title of the config means, and the titles no admin has bound yet.
      id: 'groups.bindings',
      run: ({ t }) => {
        const out: CheckResult[] = d.groups.bindings.list().map((b) => ({
          id: `groups.bindings.${b.title}`,
          severity: 'ok' as const,
          message: t('doctor.groups.binding', {
            title: b.title,
            id: b.openConversationId,
            now: d.groups.get(b.openConversationId)?.title ?? '?',
            by: b.boundBy,
          }),
        }));
        for (const title of d.groups.unboundTitles())
          out.push({
            id: `groups.bindings.${title}`,
            severity: 'warn',
            message: t('doctor.groups.unbound', { title }),
            fix: t('doctor.groups.unboundFix', { title }),
          });
        return out;
      },
    },
    {
      id: 'people',
      slow: true,
      run: async ({ t, probe }) => {
        const people = d.config.core.people;
        if (!people.length) return { id: 'people', severity: 'ok', message: t('doctor.people.none') };
        const out: CheckResult[] = [];
        for (const p of people) {
          const id = `people.${p.name}`;
          if (p.userId) {
            out.push({
              id,
              severity: 'ok',
              message: t('doctor.people.userId', { name: p.name, userId: p.userId }),
            });
            continue;
          }
          if (!p.mobile) {
            out.push({
              id,
              severity: 'warn',
              message: t('doctor.people.noContact', { name: p.name }),
              where: 'people',
              fix: t('doctor.people.noContactFix'),
            });
            continue;
          }
          const api = d.api;
          if (!api) continue;
          const mobile = normalize(p.mobile);
          try {
            const userId = await probe(`mobile:${mobile}`, () => api.userIdByMobile(mobile));
            out.push(
              userId
                ? { id, severity: 'ok', message: t('doctor.people.found', { name: p.name, userId }) }
                : {
                    id,
                    severity: 'error',
                    message: t('doctor.people.notLinked', { name: p.name, mobile: p.mobile }),
                    where: 'people',
                    fix: t('doctor.people.notLinkedFix'),
                  },
            );
          } catch (err) {
            out.push({
              id,
              severity: 'warn',
              message: t('doctor.people.unknown', { name: p.name, error: (err as Error).message }),
            });
          }
        }
        return out;
      },
    },
    {
      id: 'quota',
      run: ({ t }) => {
        if (!d.budget) return [];
        const s = d.budget.snapshot();
        const vars = {
          used: s.used,
          limit: s.limit,
          projected: s.projected,
          percent: Math.round((s.used / s.limit) * 100),
        };
        const where = `dingtalk.limits.monthlyCalls; ${t('doctor.console.usage')}`;
        if (s.exhausted)
          return {
            id: 'quota',
            severity: 'error',
            message: t('doctor.quota.refused', vars),
            where,
            fix: t('doctor.quota.fix'),
          };
        if (s.used >= s.limit * 0.95)
          return {
            id: 'quota',
            severity: 'error',
            message: t('doctor.quota.nearly', vars),
            where,
            fix: t('doctor.quota.fix'),
          };
        if (s.used >= s.limit * 0.8 || s.projected > s.limit)
          return {
            id: 'quota',
            severity: 'warn',
            message: t('doctor.quota.high', vars),
            where,
            fix: t('doctor.quota.fix'),
          };
        return { id: 'quota', severity: 'ok', message: t('doctor.quota.ok', vars) };
      },
    },
  ];
}
