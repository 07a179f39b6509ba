#!/usr/bin/env node
// Checks divert's public surface in the emitted declarations (dist/src/**/*.d.ts, after `tsc -p .`):
// every declaration an entry point of package.json's "exports" makes public, and every public
// member of its classes and interfaces, has a doc comment; and every type a public declaration
// names from another file is itself public (nameable by users). Prints what is missing.
//
//   node scripts/check_api.mjs           exit 1 when something is missing
//   node scripts/check_api.mjs --json    {"undocumented": [...], "unnameable": [...]} on stdout
//   node scripts/check_api.mjs --entry . --entry ./packet   only what these entry points make public
//
// It reads the .d.ts text (TypeScript 7 has no JS compiler API): tsc's declaration output is
// regular (one declaration per line start, members indented four spaces, doc comments kept).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const entries = Object.entries(pkg.exports).flatMap(([k, v]) => (typeof v === 'object' && v.types ? [[k, resolve(ROOT, v.types)]] : []));

const texts = new Map();
const text = (file) => {
  if (!texts.has(file)) texts.set(file, existsSync(file) ? readFileSync(file, 'utf8').split('\n') : undefined);
  return texts.get(file);
};
const dts = (from, spec) => resolve(dirname(from), spec.replace(/\.js$/, '.d.ts'));

/** name → { file, local } for everything `file` exports (following re-exports). */
function exportsOf(file, seen = new Set()) {
  const out = new Map();
  if (seen.has(file)) return out;
  seen.add(file);
  const lines = text(file);
  if (!lines) throw new Error(`missing ${file}: run "npx tsc -p ." first`);
  const src = lines.join('\n');
  const imported = new Map(); // local name → [file, original name]
  for (const m of src.matchAll(/^import (?:type )?\{([^}]*)\} from '(\.[^']+)';/gm)) {
    for (const part of m[1].split(',').map((s) => s.trim().replace(/^type /, '')).filter(Boolean)) {
      const [orig, alias] = part.split(/\s+as\s+/);
      imported.set(alias ?? orig, [dts(file, m[2]), orig]);
    }
  }
  for (const m of src.matchAll(/^export (?:type )?\{([^}]*)\}(?: from '([^']+)')?;/gm)) {
    for (const part of m[1].split(',').map((s) => s.trim()).filter(Boolean)) {
      const [orig, alias] = part.replace(/^type /, '').split(/\s+as\s+/);
      if (m[2]) {
        const target = dts(file, m[2]);
        const inner = exportsOf(target, new Set(seen)).get(orig);
        out.set(alias ?? orig, inner ?? { file: target, local: orig });
      } else if (imported.has(orig)) {
        const [target, name] = imported.get(orig);
        out.set(alias ?? orig, exportsOf(target, new Set(seen)).get(name) ?? { file: target, local: name });
      } else out.set(alias ?? orig, { file, local: orig });
    }
  }
  for (const m of src.matchAll(/^export \* from '([^']+)';/gm)) for (const [k, v] of exportsOf(dts(file, m[1]), new Set(seen))) if (!out.has(k)) out.set(k, v);
  for (const m of src.matchAll(/^export (?:declare )?(?:abstract )?(?:class|function|const|let|interface|type|enum|namespace) ([A-Za-z_$][\w$]*)/gm)) out.set(m[1], { file, local: m[1] });
  return out;
}

const documented = (lines, i) => {
  for (let j = i - 1; j >= 0; j--) {
    const t = lines[j].trim();
    if (t === '') continue;
    return t.endsWith('*/');
  }
  return false;
};

const undocumented = [];
const unnameable = [];
const publicNames = new Map(); // `${file}#${local}` → public name
const only = process.argv.flatMap((a, i) => (process.argv[i - 1] === '--entry' ? [a] : []));
const checked = new Set();
for (const [entry, file] of entries) {
  for (const [name, d] of exportsOf(file)) {
    publicNames.set(`${d.file}#${d.local}`, `${entry === '.' ? 'divert' : `divert/${entry.slice(2)}`}:${name}`);
    if (only.length === 0 || only.includes(entry)) checked.add(`${d.file}#${d.local}`);
  }
}
if (only.some((e) => !entries.some(([k]) => k === e))) throw new Error(`--entry: not an entry point of package.json's exports: ${only.join(', ')}`);

const seenDecl = new Set();
for (const key of checked) {
  const [file, local] = key.split('#');
  if (seenDecl.has(key)) continue;
  seenDecl.add(key);
  const lines = text(file);
  const where = relative(ROOT, file);
  const start = lines.findIndex((l) => new RegExp(`^export (?:declare )?(?:abstract )?(?:class|function|const|let|interface|type|enum|namespace) ${local.replace(/\$/g, '\\$')}\\b`).test(l));
  if (start < 0) continue; // an import re-exported as is: checked where it is declared
  if (!documented(lines, start)) undocumented.push(`${where}: ${local}`);
  // The declaration's block: to the closing brace at column 0 (or its one line).
  let end = start;
  if (/\{\s*$/.test(lines[start])) while (end < lines.length && lines[end] !== '}' && lines[end] !== '};') end++;
  const block = lines.slice(start, end + 1);
  if (/^export (?:declare )?(?:abstract )?(?:class|interface) /.test(lines[start]) || /^export type \w+(<[^=]*>)? = \{$/.test(lines[start])) {
    const seenMember = new Set();
    for (let i = start + 1; i < end; i++) {
      const m = /^ {4}(?:(?:static|readonly|get|set|abstract|protected|override|async) )*([A-Za-z_$][\w$]*|\[[^\]]+\]|constructor)\??[(<:]/.exec(lines[i]);
      if (!m || /^ {4}(private|#)/.test(lines[i])) continue;
      const member = m[1];
      if (seenMember.has(member)) continue; // overloads, get/set pairs: one comment
      seenMember.add(member);
      if (!documented(lines, i)) undocumented.push(`${where}: ${local}.${member}`);
    }
  }
  // Names this block takes from other files must be public too.
  const src = lines.join('\n');
  for (const m of src.matchAll(/^import (?:type )?\{([^}]*)\} from '(\.[^']+)';/gm)) {
    for (const part of m[1].split(',').map((s) => s.trim().replace(/^type /, '')).filter(Boolean)) {
      const [orig, alias] = part.split(/\s+as\s+/);
      const used = alias ?? orig;
      if (!block.some((l) => new RegExp(`\\b${used}\\b`).test(l))) continue;
      const target = dts(file, m[2]);
      const decl = exportsOf(target).get(orig) ?? { file: target, local: orig };
      if (!publicNames.has(`${decl.file}#${decl.local}`)) unnameable.push(`${where}: ${local} uses ${orig} (${relative(ROOT, decl.file)}), which no entry point exports`);
    }
  }
}

const result = { undocumented: [...new Set(undocumented)].sort(), unnameable: [...new Set(unnameable)].sort() };
if (process.argv.includes('--json')) {
  console.log(JSON.stringify(result, null, 2));
} else {
  for (const u of result.undocumented) console.log(`undocumented: ${u}`);
  for (const u of result.unnameable) console.log(`unnameable: ${u}`);
  console.log(`check_api: ${checked.size} public declarations; ${result.undocumented.length} undocumented, ${result.unnameable.length} unnameable`);
}
process.exitCode = result.undocumented.length + result.unnameable.length > 0 ? 1 : 0;
