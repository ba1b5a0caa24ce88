import { type Document, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { ConfigProblem } from './config-error.js';

/** A parsed YAML file that can say on which line a path is. */
export class YamlSource {
  readonly doc: Document;
  private readonly lines = new LineCounter();

  constructor(
    readonly text: string,
    readonly file?: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, keepSourceTokens: false, uniqueKeys: true });
  }

  lineOfOffset = (offset: number): number => this.lines.linePos(offset).line;

  syntaxProblems(): ConfigProblem[] {
    return [...this.doc.errors, ...this.doc.warnings].map((e) => ({
      path: '',
      message: e.message.split('\n')[0]!,
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
