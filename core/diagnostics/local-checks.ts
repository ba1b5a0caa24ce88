import { SqlKeyValueStore } from '../storage/kv-store.js';
import type { CoreCheckDeps } from './check-deps.js';
import type { CheckResult, DiagnosticCheck } from './diagnostics.js';

/** Config, storage and security review: no network involved. */
export function localChecks(d: CoreCheckDeps): DiagnosticCheck[] {
  const { config } = d;
  return [
    {
      id: 'config',
      run: ({ t }) => ({
        id: 'config',
        severity: 'ok',
        message: t('doctor.config.ok', { file: config.file ?? t('doctor.config.defaults') }),
      }),
    },
    {
      id: 'storage',
      run: async ({ t }) => {
        const kv = new SqlKeyValueStore(d.db.db, 'core', d.now, d.db.write);
        const stamp = d.now();
        try {
          await kv.set('doctor-probe', stamp);
          if ((await kv.get<number>('doctor-probe')) !== stamp)
            throw new Error('read back a different value');
        } catch (err) {
          return {
            id: 'storage',
            severity: 'error',
            message: t('doctor.storage.error', { error: (err as Error).message }),
            where: 'storage.url (DINGOPS_STORAGE_URL)',
            fix: t('doctor.storage.fix'),
          };
        }
        return { id: 'storage', severity: 'ok', message: t('doctor.storage.ok', { dialect: d.db.dialect }) };
      },
    },
    {
      id: 'security',
      run: ({ t }) => {
        const out: CheckResult[] = [];
        if (!config.core.access.admins.length)
          out.push({
            id: 'security.admins',
            severity: 'warn',
            message: t('doctor.security.noAdmins'),
            where: 'access.admins',
            fix: t('doctor.security.noAdminsFix'),
          });
        if (config.literalSecretPaths.length)
          out.push({
            id: 'security.secrets',
            severity: 'warn',
            message: t('doctor.security.literal', { paths: config.literalSecretPaths.join(', ') }),
            where: config.file,
            fix: t('doctor.security.literalFix'),
          });
        if (config.shortSecretPaths.length)
          out.push({
            id: 'security.shortSecrets',
            severity: 'warn',
            message: t('doctor.security.short', { paths: config.shortSecretPaths.join(', ') }),
            fix: t('doctor.security.shortFix'),
          });
        return out.length ? out : { id: 'security', severity: 'ok', message: t('doctor.security.ok') };
      },
    },
  ];
}
