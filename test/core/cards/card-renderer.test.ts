import { describe, expect, it } from 'vitest';
import { card } from '../../../core/cards/card.js';
import { CardRenderer } from '../../../core/cards/card-renderer.js';
import { en } from '../../../core/i18n/catalog/en.js';
import { zhCN } from '../../../core/i18n/catalog/zh-CN.js';
import { I18n } from '../../../core/i18n/i18n.js';

function renderer(templateId?: string, limits?: Record<string, number>) {
  const i18n = new I18n('en');
  i18n.add({ en, 'zh-CN': zhCN });
  return new CardRenderer(i18n, { cardTemplateId: templateId, limits });
}

const incident = card({
  title: 'Disk full on db-1',
  status: 'critical',
  body: 'Free space **2%**',
  fields: [{ label: 'Service', value: 'postgres' }],
  sections: [{ title: 'Alerts', items: ['db-1 /data', 'db-1 /wal'] }],
  buttons: [
    { text: 'Acknowledge', action: { id: 'alerts.ack', params: { id: '12' } }, command: 'ack 12' },
    { text: 'Runbook', url: 'https://wiki.example/disk' },
  ],
  mentions: ['bob'],
});

describe('CardRenderer', () => {
  it('uses the interactive card when a template is configured and there are callback buttons', () => {
    const r = renderer('tpl.schema').render(incident, { interactive: true });
    expect(r.kind).toBe('interactive');
    if (r.kind !== 'interactive') return;
    expect(r.templateId).toBe('tpl.schema');
    for (const v of Object.values(r.cardParamMap)) expect(typeof v).toBe('string');
    expect(JSON.parse(r.cardParamMap.buttons!)).toEqual([
      { text: 'Acknowledge', style: 'default', type: 'callback', params: { action: 'alerts.ack', id: '12' } },
      { text: 'Runbook', style: 'default', type: 'link', url: 'https://wiki.example/disk' },
    ]);
    expect(r.cardParamMap.color).toBe('red');
    expect(r.fallback.text).toContain('Reply with `ack 12`');
  });

  it('falls back to an action card with link buttons when interactive cards are not possible', () => {
    const r = renderer().render(incident, { interactive: true });
    expect(r.kind).toBe('actionCard');
    if (r.kind !== 'actionCard') return;
    expect(r.robot).toMatchObject({
      msgKey: 'sampleActionCard',
      msgParam: { singleTitle: 'Runbook', singleURL: 'https://wiki.example/disk' },
    });
    expect(r.robot.msgParam.text).toContain('Reply with `ack 12`');
    expect(r.robot.msgParam.text).toContain('@bob');
  });

  it('numbers action card keys for several link buttons', () => {
    const c = card({ title: 't', buttons: [1, 2, 3].map((i) => ({ text: `b${i}`, url: `https://x/${i}` })) });
    const r = renderer().render(c, { interactive: false });
    expect(r.kind === 'actionCard' && r.robot.msgKey).toBe('sampleActionCard3');
    expect(r.kind === 'actionCard' && r.robot.msgParam.actionURL3).toBe('https://x/3');
  });

  it('renders markdown with the severity mark, fields and sections', () => {
    const c = card({
      title: 'Resolved',
      status: 'success',
      fields: [{ label: 'Took', value: '5m' }],
      sections: [{ items: ['a'] }],
    });
    const r = renderer().render(c, { interactive: false });
    expect(r.kind).toBe('markdown');
    expect(r.kind === 'markdown' && r.text).toBe('### 🟢 Resolved\n\n- **Took**: 5m\n\n- a');
  });

  it('cuts long lists by bytes with a visible +N more line', () => {
    const items = Array.from({ length: 500 }, (_, i) => `告警 alert number ${i} on host-${i}`);
    const r = renderer(undefined, { markdownBytes: 2000 }).render(
      card({ title: 'Storm', sections: [{ items }] }),
      { interactive: false },
    );
    expect(r.kind).toBe('markdown');
    if (r.kind !== 'markdown') return;
    expect(Buffer.byteLength(r.text)).toBeLessThanOrEqual(2000);
    const more = /… \+(\d+) more/.exec(r.text);
    expect(more).not.toBeNull();
    const shown = r.text.split('\n').filter((l) => l.startsWith('- 告警')).length;
    expect(shown + Number(more![1])).toBe(500);
  });

  it('keeps every interactive card value under the per-value limit', () => {
    const items = Array.from({ length: 300 }, (_, i) => `line ${i} ${'x'.repeat(20)}`);
    const r = renderer('tpl').render(
      card({
        title: 'T'.repeat(500),
        sections: [{ items }],
        buttons: [{ text: 'go', action: { id: 'a.b' } }],
      }),
      { interactive: true },
    );
    expect(r.kind).toBe('interactive');
    if (r.kind !== 'interactive') return;
    for (const [k, v] of Object.entries(r.cardParamMap))
      expect(Buffer.byteLength(v), k).toBeLessThanOrEqual(1000);
    expect(r.cardParamMap.markdown).toMatch(/\+\d+ more/);
  });

  it('renders plain text with numbered buttons for terminals', () => {
    const text = renderer().plain(incident);
    expect(text).toContain('[CRITICAL] Disk full on db-1');
    expect(text).toContain('[1] Acknowledge (ack 12)');
    expect(text).toContain('[2] Runbook (https://wiki.example/disk)');
  });

  it('renders in the requested locale', () => {
    const r = renderer().render(
      card({ title: 't', sections: [{ items: Array(400).fill('x'.repeat(40)) }] }),
      { interactive: false },
      'zh-CN',
    );
    expect(r.kind).toBe('markdown');
    expect(r.kind === 'markdown' && r.text).toMatch(/还有 \d+ 条/);
  });
});
