/**
 * Word cursor shared by the ipchains parser: words with their character offsets, and errors
 * that point at a word.
 * @module
 */
import { FilterSyntaxError } from '../errors.js';

export interface Word {
  readonly text: string;
  readonly offset: number;
}

/** Splits on whitespace (strings) or takes argv as is, remembering where each word starts. */
export function toWords(input: string | readonly string[]): { text: string; words: Word[] } {
  if (typeof input !== 'string') {
    const words: Word[] = [];
    let offset = 0;
    for (const w of input) {
      if (w.trim() === '' || /\s/.test(w)) throw new FilterSyntaxError(`Word ${JSON.stringify(w)} contains white space: pass one option or value per argument`, input.join(' '), offset);
      words.push({ text: w, offset });
      offset += w.length + 1;
    }
    return { text: input.join(' '), words };
  }
  const words: Word[] = [];
  for (const m of input.matchAll(/\S+/g)) words.push({ text: m[0], offset: m.index });
  return { text: input, words };
}

export class Cursor {
  readonly text: string;
  readonly words: readonly Word[];
  pos = 0;
  constructor(input: string | readonly string[]) {
    const { text, words } = toWords(input);
    this.text = text;
    this.words = words;
  }
  peek(ahead = 0): Word | undefined {
    return this.words[this.pos + ahead];
  }
  next(): Word | undefined {
    const w = this.words[this.pos];
    if (w) this.pos++;
    return w;
  }
  /** Offset for errors about the end of the text. */
  get endOffset(): number {
    return this.text.length;
  }
  /** The value after an option; throws with `what`/`hint` when it is missing or is an option. */
  value(option: Word, what: string, hint: string): Word {
    const w = this.peek();
    if (!w || (w.text.startsWith('-') && w.text.length > 1 && !/^-\d/.test(w.text))) {
      const got = w ? `got ${JSON.stringify(w.text)}` : 'got nothing';
      throw this.error(`${option.text} needs ${what}, ${got} (${hint})`, w ?? option);
    }
    this.pos++;
    return w;
  }
  error(message: string, at: Word | undefined): FilterSyntaxError {
    return new FilterSyntaxError(message, this.text, at?.offset ?? this.endOffset);
  }
}
