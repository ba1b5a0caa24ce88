import type { Catalogs } from 'dingops';

/** The plugin's messages (`faq.<key>`), in both languages. */
export const faqCatalogs: Partial<Catalogs> = {
  en: {
    description: 'Answers setup questions; links them to live checks',
    'cmd.faq': 'Ask a setup question in your own words, or give an entry id',
    'cmd.list': 'Every FAQ entry',
    'arg.question': 'the question, in English or Chinese, or an entry id',
    symptom: 'Symptom',
    check: 'Fastest check',
    fix: 'Fix',
    live: 'Live check',
    liveHint: 'an admin can run `doctor {check}`',
    also: 'Also: {list}',
    noMatch: 'No FAQ entry matches that. `faq list` shows them all; `doctor` checks the bot and the app.',
    listTitle: 'FAQ ({count})',
    usage: 'Ask a question: `faq the bot does not answer in my group`, or `faq list`.',
  },
  'zh-CN': {
    description: '解答配置问题，并关联实时检查',
    'cmd.faq': '用自己的话提问，或给出条目 id',
    'cmd.list': '全部常见问题',
    'arg.question': '问题（中文或英文），或条目 id',
    symptom: '现象',
    check: '最快的检查方法',
    fix: '解决方法',
    live: '实时检查',
    liveHint: '管理员可运行 `doctor {check}`',
    also: '相关：{list}',
    noMatch: '没有匹配的常见问题。`faq list` 列出全部；`doctor` 检查机器人和应用。',
    listTitle: '常见问题（{count}）',
    usage: '请提问：`faq 机器人在群里不回复`，或 `faq list`。',
  },
};
