import { describe, expect, it } from 'vitest';
import { FaqSearch, questionLocale, terms } from '../../../plugins/faq/faq-search.js';
import { BUILTIN_FAQ, loadKnowledgeBase } from '../../../plugins/faq/knowledge-base.js';

const faq = new FaqSearch(loadKnowledgeBase([BUILTIN_FAQ]));
const best = (q: string) => faq.search(q)[0]?.entry.id;

describe('faq search', () => {
  it('splits Chinese into character pairs and English into stemmed words', () => {
    expect(terms('机器人没反应')).toEqual(['机器', '器人', '人没', '没反', '反应']);
    expect(terms('Why is the bot not responding?')).toEqual(['bot', 'not', 'respond']);
    expect(terms('群')).toEqual(['群']);
  });

  it('finds the entry for paraphrased English questions, typos included', () => {
    expect(best('why does the robot stay silent when we mention it in our team group')).toBe(
      'bot-silent-group',
    );
    expect(best('my colleague never receives the alert notifications')).toBe('person-not-linked');
    expect(best('clicking the acknowlege buton on the card does nothing')).toBe('card-buttons');
    expect(best('do I need https for the callback adress')).toBe('webhook-https');
    expect(best('how many api calls per month does the standard edition allow')).toBe('api-limits');
    expect(best('cannot create an incident war room from the template')).toBe('warroom');
    expect(best('routing to a group by its title fails, group list is empty')).toBe('groups-empty');
  });

  it('finds the entry for Chinese questions written without spaces', () => {
    expect(best('机器人在群里没反应')).toBe('bot-silent-group');
    expect(best('卡片上的按钮点了没用')).toBe('card-buttons');
    expect(best('作战群建不了')).toBe('warroom');
    expect(best('同事收不到告警通知')).toBe('person-not-linked');
    expect(best('这个月接口调用量超了怎么办')).toBe('api-limits');
    expect(best('合作公司的群加不了机器人')).toBe('other-organization');
  });

  it('answers in the language of the question', () => {
    expect(questionLocale('机器人不回复', 'en')).toBe('zh-CN');
    expect(questionLocale('bot silent', 'zh-CN')).toBe('en');
    expect(questionLocale('12', 'zh-CN')).toBe('zh-CN');
  });

  it('finds nothing for questions about something else', () => {
    expect(faq.search('zebra giraffe')).toEqual([]);
  });
});
