import { describe, expect, it } from 'vitest';
import { renderMarkdown, renderText } from '../../../simulator/sandbox/assets/markdown.js';

describe("the sandbox's DingTalk markdown", () => {
  it('draws the subset DingTalk documents: headings, emphasis, links, lists, quotes, code, rules', () => {
    const html = renderMarkdown(
      [
        '### Disk full',
        '**host** is at *98%*, see [the runbook](https://wiki.example.com/disk)',
        '- one',
        '- two',
        '1. first',
        '2. second',
        '> quoted',
        '---',
        '```',
        'df -h',
        '```',
        'use `du -sh`',
      ].join('\n'),
    );
    expect(html).toBe(
      '<p class="md-h3">Disk full</p>' +
        '<p><strong>host</strong> is at <em>98%</em>, see <a href="https://wiki.example.com/disk" target="_blank" rel="noopener noreferrer">the runbook</a></p>' +
        '<ul><li>one</li><li>two</li></ul>' +
        '<ol><li>first</li><li>second</li></ol>' +
        '<blockquote>quoted</blockquote>' +
        '<hr>' +
        '<pre><code>df -h</code></pre>' +
        '<p>use <code>du -sh</code></p>',
    );
  });

  it('escapes every piece of untrusted text: no element or attribute gets through', () => {
    const hostile = [
      '<img src=x onerror=alert(1)>',
      '**<script>alert(1)</script>**',
      '[click](javascript:alert(1))',
      '[x](https://e.com/"onmouseover="alert(1))',
      '<font color="red" onclick="x">red</font>',
      '<font color=red><b>bold?</b></font>',
      '`<i>code</i>`',
      '```\n</code></pre><script>x</script>\n```',
      '![a"b](https://e.com/i.png)',
    ].join('\n');
    const html = renderMarkdown(hostile);
    // Only the renderer's own elements remain.
    const own = new Set([
      'a',
      'blockquote',
      'br',
      'code',
      'em',
      'hr',
      'li',
      'ol',
      'p',
      'pre',
      'span',
      'strong',
      'ul',
    ]);
    const tags = [...html.matchAll(/<\/?([a-z0-9]+)/gi)].map((m) => m[1]);
    expect(tags.filter((t) => !own.has(t ?? ''))).toEqual([]);
    expect(html).not.toMatch(/<(img|script|b|i)\b/);
    expect(html).not.toMatch(/<[^>]*\son\w+=/i);
    expect(html).not.toContain('href="javascript');
    // A link that is not a web link is shown, not followed.
    expect(html).toContain('<span class="md-link" title="javascript:alert(1">click</span>');
    // <font color> keeps only a colour, as data the page applies.
    expect(html).toContain('<span class="md-font" data-color="red">');
  });

  it('leaves unclosed markers as text and closes an unclosed font and a fence still streaming', () => {
    expect(renderMarkdown('2 * 3 = 6 and a lone ` and [bracket')).toBe(
      '<p>2 * 3 = 6 and a lone ` and [bracket</p>',
    );
    expect(renderMarkdown('<font color=#f00>red')).toBe(
      '<p><span class="md-font" data-color="#f00">red</span></p>',
    );
    expect(renderMarkdown('```\nline 1\nline 2')).toBe('<pre><code>line 1\nline 2</code></pre>');
  });

  it('marks @mentions of the people a message mentions, and only them', () => {
    const mentions = new Set(['alice', 'bob']);
    expect(renderText('@Alice and @mallory\nsee @bob', mentions)).toBe(
      '<span class="mention">@Alice</span> and @mallory<br>see <span class="mention">@bob</span>',
    );
  });
});
