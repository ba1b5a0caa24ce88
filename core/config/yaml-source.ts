import { type Document, isMap, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import type { ConfigProblem } from './config-error.js';

const ENV_EXPRESSION = /\$\$\{|\$\{[^}\n]*\}/g;
const PLACEHOLDER = '__dingops_env_';
const PLACEHOLDERS = /__dingops_env_(\d+)__/g;

/** A parsed YAML file that can say on which line a path is. */
export class YamlSource {
  readonly doc: Document;
  private readonly lines = new LineCounter();

  constructor(
    readonly text: string,
    readonly file?: string,
  ) {
    // `${VAR}` is ours, not YAML's: inside a flow map (`{ token: ${TOKEN} }`) its braces would
    // be read as YAML's. Each expression is parsed as a placeholder (on the same line, so line
    // numbers hold) and put back into the scalar it was in.
    const expressions: string[] = [];
    const protectedText = text.replace(ENV_EXPRESSION, (m) =>
      m === '$${' ? m : `${PLACEHOLDER}${expressions.push(m) - 1}__`,
    );
    this.doc = parseDocument(protectedText, {
      lineCounter: this.lines,
      keepSourceTokens: false,
      uniqueKeys: true,
    });
    if (expressions.length)
      visit(this.doc, {
        Scalar(_key, node) {
          if (typeof node.value === 'string' && node.value.includes(PLACEHOLDER))
            node.value = node.value.replace(PLACEHOLDERS, (_m, i: string) => expressions[Number(i)] ?? '');
        },
      });
  }

  lineOfOffset = (offset: number): number => this.lines.linePos(offset).line;

  syntaxProblems(): ConfigProblem[] {
    return [...this.doc.errors, ...this.doc.warnings].map((e) => ({
      path: '',
      message: e.message.split('\n')[0] ?? e.message,
      line: e.linePos?.[0]?.line,
    }));
  }

  /** Line of the key (or item) at `path`; undefined when the path is not in the file. */
  lineAt = (path: ReadonlyArray<PropertyKey>): number | undefined => {
    let node: unknown = this.doc.contents;
    let line: number | undefined;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find(
          (p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg),
        );
        if (!pair) return undefined;
        const keyRange = isScalar(pair.key) ? pair.key.range : undefined;
        if (keyRange) line = this.lineOfOffset(keyRange[0]);
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg] as { range?: [number, number, number] } | undefined;
        if (!item) return undefined;
        if (item.range) line = this.lineOfOffset(item.range[0]);
        node = item;
      } else return undefined;
    }
    return line;
  };
}
