#!/usr/bin/env node
// Checks the import graph of andon's TypeScript against the layout in STYLE.md ("the folders are the architecture").
//
// Usage: node scripts/check-imports.mjs [repository root]      (exit 0 and "imports ok: N files, M edges", or exit 1)
//
// Rules, each from STYLE.md:
//   cycle       No import cycle between files ("CI fails on an import cycle"). Static imports and re-exports count,
//               `import type` too; dynamic `import()` does not, since it is how a load-time cycle is broken.
//   core        core/ imports nothing else of ours ("the vocabulary ... imports nothing else of ours").
//   detection   detection/ imports only core/ ("detection/ imports only core/").
//   ports       graph/ and agent/ never import connectors/, store/ or app/ ("depend on ports, never on connectors/";
//               "only app/ wires adapters to ports"). Tests are exempt: like app/, a test may wire real adapters.
//   adapters    Outside connectors/, only app/, bench/, simulator/ and tests import connectors/ ("only app/ wires
//               adapters to ports"; the simulator stands in for the plant and speaks the same protocols).
//   deep        An import into another top-level folder goes through the first index.ts on the way down: X/index.ts,
//               or X/<sub>/index.ts where X has none (connectors/mqtt/index.ts) ("each folder exposes its public surface
//               through one index.ts. Nothing deep-imports past another folder's index"). Tests are exempt.
//   unresolved  A relative import names a file that does not exist.
// A test is a *.test.ts(x) file, *.int.test.ts included. Only relative specifiers are ours; packages are not checked.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const FOLDERS = [
  'core',
  'detection',
  'connectors',
  'store',
  'knowledge',
  'agent',
  'graph',
  'server',
  'simulator',
  'eval',
  'app',
  'bench',
];
const SOURCE = /\.(ts|tsx|mts|cts)$/;
const TEST = /\.test\.tsx?$/;

const root = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..'));

/** Every source file under the top-level folders, as a path relative to the root with forward slashes. */
function listFiles() {
  const files = [];
  const walk = (relative) => {
    for (const entry of readdirSync(path.join(root, relative), { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const child = `${relative}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile() && SOURCE.test(entry.name)) files.push(child);
    }
  };
  for (const folder of FOLDERS) if (existsSync(path.join(root, folder))) walk(folder);
  return files.sort();
}

const KEYWORDS_BEFORE_EXPRESSION = new Set([
  'return',
  'typeof',
  'instanceof',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'case',
  'do',
  'else',
  'yield',
  'await',
]);

/**
 * The source with comments, regular expressions and template literal text blanked out, and each string literal replaced
 * by `"N"`, where N indexes the returned `strings`. Import statements can then be matched with plain regular expressions
 * without being fooled by code in comments or strings. Line breaks are kept, so offsets map to the same lines.
 */
function mask(source) {
  const strings = [];
  let out = '';
  let i = 0;
  let previous = ''; // last significant character of code, to tell a regular expression from a division
  let previousWord = '';
  let afterSpace = false;
  let braces = 0;
  const templateBraces = []; // brace depth at each open `${`, innermost last
  const blank = (text) => text.replace(/[^\n]/g, ' ');

  const scanTemplate = () => {
    // i is just past a backtick or the `}` that closes a `${`; returns with i past the closing backtick or the `${`.
    const start = i;
    while (i < source.length) {
      const c = source[i];
      if (c === '\\') i += 2;
      else if (c === '`') {
        out += `${blank(source.slice(start, i))}\``;
        i += 1;
        previous = '`';
        return;
      } else if (c === '$' && source[i + 1] === '{') {
        out += `${blank(source.slice(start, i))}\${`;
        i += 2;
        templateBraces.push(braces);
        previous = '{';
        return;
      } else i += 1;
    }
    out += blank(source.slice(start));
  };

  while (i < source.length) {
    const c = source[i];
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      i = end === -1 ? source.length : end;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end === -1 ? source.length : end + 2;
      out += blank(source.slice(i, stop));
      i = stop;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      let value = '';
      while (j < source.length && source[j] !== c && source[j] !== '\n') {
        if (source[j] === '\\') {
          value += source[j + 1] ?? '';
          j += 2;
        } else value += source[j++];
      }
      strings.push(value);
      out += `"${strings.length - 1}"`;
      i = source[j] === c ? j + 1 : j;
      previous = '"';
    } else if (c === '`') {
      out += '`';
      i += 1;
      scanTemplate();
    } else if (
      c === '/' &&
      (previous === '' || /[(,=:[!&|?{};+\-*%<>~^]/.test(previous) || KEYWORDS_BEFORE_EXPRESSION.has(previousWord))
    ) {
      let j = i + 1;
      let inClass = false;
      while (j < source.length && source[j] !== '\n') {
        if (source[j] === '\\') j += 1;
        else if (source[j] === '[') inClass = true;
        else if (source[j] === ']') inClass = false;
        else if (source[j] === '/' && !inClass) break;
        j += 1;
      }
      while (/[a-z]/i.test(source[j + 1] ?? '')) j += 1;
      out += blank(source.slice(i, j + 1));
      i = j + 1;
      previous = ')';
      previousWord = '';
    } else if (c === '}' && templateBraces.length > 0 && templateBraces.at(-1) === braces) {
      templateBraces.pop();
      out += '}';
      i += 1;
      scanTemplate();
    } else {
      if (c === '{') braces += 1;
      else if (c === '}') braces -= 1;
      out += c;
      i += 1;
      if (/\s/.test(c)) afterSpace = true;
      else {
        if (/[\w$]/.test(c)) previousWord = /[\w$]/.test(previous) && !afterSpace ? previousWord + c : c;
        else previousWord = '';
        previous = c;
        afterSpace = false;
      }
    }
  }
  return { masked: out, strings };
}

const STATIC =
  /(?<![\w$.])(import|export)(\s+type(?![\w$]))?(?:(?!(?<![\w$.])(?:import|export)(?![\w$]))[^;"])*?(?<![\w$])from\s*"(\d+)"/g;
const SIDE_EFFECT = /(?<![\w$.])import\s*"(\d+)"/g;
const DYNAMIC = /(?<![\w$.])import\s*\(\s*"(\d+)"\s*[,)]/g;

/** The relative specifiers a file imports: { specifier, line, kind: 'static' | 'type' | 'dynamic' }. */
function importsOf(source) {
  const { masked, strings } = mask(source);
  const found = [];
  const lineOf = (offset) => masked.slice(0, offset).split('\n').length;
  const add = (match, index, kind) => {
    const specifier = strings[Number(match[index])];
    if (specifier?.startsWith('./') || specifier?.startsWith('../')) {
      found.push({ specifier, line: lineOf(match.index), kind });
    }
  };
  for (const match of masked.matchAll(STATIC)) add(match, 3, match[2] ? 'type' : 'static');
  for (const match of masked.matchAll(SIDE_EFFECT)) add(match, 1, 'static');
  for (const match of masked.matchAll(DYNAMIC)) add(match, 1, 'dynamic');
  return found;
}

const isFile = (relative) => existsSync(path.join(root, relative)) && statSync(path.join(root, relative)).isFile();

/** The file a relative specifier names, relative to the root, or undefined when there is none. */
function resolve(from, specifier) {
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  const candidates = [target];
  const withoutJs = target.replace(/\.(js|jsx|mjs|cjs)$/, '');
  if (withoutJs !== target) {
    const tsExtension = { js: '.ts', jsx: '.tsx', mjs: '.mts', cjs: '.cts' }[target.split('.').pop()];
    candidates.push(withoutJs + tsExtension, `${withoutJs}.tsx`);
  }
  candidates.push(`${target}.ts`, `${target}.tsx`, `${target}/index.ts`, `${target}/index.tsx`);
  return candidates.find(isFile);
}

const folderOf = (file) => file.split('/')[0];
const isTest = (file) => TEST.test(file);

/** The index.ts an import of `file` from another top-level folder must go through, or undefined if there is none. */
function entryOf(file) {
  const folders = file.split('/').slice(0, -1);
  for (let depth = 1; depth <= folders.length; depth += 1) {
    const folder = folders.slice(0, depth).join('/');
    const index = [`${folder}/index.ts`, `${folder}/index.tsx`].find(isFile);
    if (index !== undefined) return index;
  }
  return undefined;
}

/** The rules a single edge breaks, as [rule, reason] pairs. */
function violations(from, to) {
  const source = folderOf(from);
  const target = folderOf(to);
  if (source === target || !FOLDERS.includes(target)) return [];
  const found = [];
  const test = isTest(from);
  if (source === 'core') found.push(['core', 'core/ imports nothing else of ours']);
  if (source === 'detection' && target !== 'core') found.push(['detection', 'detection/ imports only core/']);
  if ((source === 'graph' || source === 'agent') && ['connectors', 'store', 'app'].includes(target) && !test) {
    found.push(['ports', `${source}/ depends on ports in core/, never on ${target}/`]);
  }
  if (target === 'connectors' && !['app', 'bench', 'simulator'].includes(source) && !test) {
    found.push(['adapters', 'only app/, bench/, simulator/ and tests import connectors/']);
  }
  const entry = test ? to : entryOf(to);
  if (entry === undefined) found.push(['deep', `${target}/ has no index.ts to import through`]);
  else if (entry !== to) found.push(['deep', `import ${entry}, not a file past it`]);
  return found;
}

/** Cycles: the strongly connected components of more than one file (or a file importing itself), by Tarjan. */
function cyclesOf(files, edges) {
  const index = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const components = [];
  let counter = 0;
  const connect = (file) => {
    index.set(file, counter);
    low.set(file, counter);
    counter += 1;
    stack.push(file);
    onStack.add(file);
    for (const next of edges.get(file) ?? []) {
      if (!index.has(next)) {
        connect(next);
        low.set(file, Math.min(low.get(file), low.get(next)));
      } else if (onStack.has(next)) low.set(file, Math.min(low.get(file), index.get(next)));
    }
    if (low.get(file) === index.get(file)) {
      const component = [];
      let member;
      do {
        member = stack.pop();
        onStack.delete(member);
        component.push(member);
      } while (member !== file);
      if (component.length > 1 || edges.get(file)?.has(file)) components.push(component.sort());
    }
  };
  for (const file of files) if (!index.has(file)) connect(file);
  return components;
}

/** One concrete loop through a cycle's files, for the message: a -> b -(type)-> a. */
function loopThrough(component, edges) {
  const members = new Set(component);
  const start = component[0];
  const previous = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift();
    for (const next of edges.get(file) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const loop = [start];
        for (let at = file; at !== undefined && at !== start; at = previous.get(at)) loop.splice(1, 0, at);
        return [...loop, start].reduce(
          (text, to, at, all) =>
            at === 0 ? to : `${text} ${typeOnly.has(`${all[at - 1]}\n${to}`) ? '-(type)->' : '->'} ${to}`,
          '',
        );
      }
      if (!previous.has(next)) {
        previous.set(next, file);
        queue.push(next);
      }
    }
  }
  return component.join(', ');
}

const files = listFiles();
const edges = new Map(files.map((file) => [file, new Set()]));
const typeOnly = new Set(); // "from\nto" pairs joined only by `import type` / `export type`
const problems = [];
let edgeCount = 0;
const seen = new Set();

for (const file of files) {
  for (const { specifier, line, kind } of importsOf(readFileSync(path.join(root, file), 'utf8'))) {
    const where = `${file}:${line}`;
    const to = resolve(file, specifier);
    if (to === undefined) {
      problems.push(['unresolved', `${where} imports '${specifier}', which does not exist`]);
      continue;
    }
    if (!SOURCE.test(to)) continue;
    const pair = `${file}\n${to}`;
    if (!seen.has(pair)) {
      seen.add(pair);
      edgeCount += 1;
    }
    if (kind !== 'dynamic' && edges.has(to)) {
      if (kind === 'type' && !edges.get(file).has(to)) typeOnly.add(pair);
      if (kind === 'static') typeOnly.delete(pair);
      edges.get(file).add(to);
    }
    for (const [rule, reason] of violations(file, to))
      problems.push([rule, `${where} imports '${specifier}': ${reason}`]);
  }
}
for (const component of cyclesOf(files, edges)) {
  problems.push(['cycle', `${loopThrough(component, edges)} (${component.length} files: ${component.join(', ')})`]);
}

if (problems.length > 0) {
  console.error(`imports: ${problems.length} problem(s) in ${files.length} files (rules: see the top of this script)`);
  for (const rule of ['cycle', 'core', 'detection', 'ports', 'adapters', 'deep', 'unresolved']) {
    const messages = problems.filter(([r]) => r === rule).map(([, message]) => message);
    if (messages.length === 0) continue;
    console.error(`\n${rule}:`);
    for (const message of messages.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))) {
      console.error(`  ${message}`);
    }
  }
  process.exit(1);
}
console.log(`imports ok: ${files.length} files, ${edgeCount} edges`);
