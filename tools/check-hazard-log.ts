/**
 * Checks the hazard log (docs/safety/hazard-log.md): every hazard names at least one test, and
 * every test it names exists — the file is there and has a test of that name. A control whose test
 * is renamed or deleted fails the build until the log says which test now shows the control works.
 *
 * Run: `npm run hazards:check` (also part of `npm test`, in test/hazard-log.test.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface HazardEntry {
  id: string;
  title: string;
  tests: { file: string; name: string }[];
}

export interface HazardLogCheck {
  hazards: HazardEntry[];
  /** Problems found, one line each; empty when the log holds. */
  problems: string[];
}

const HAZARD_RE = /^### (H\d+)\s+(.+)$/;
/** A test line: "- `path/to/file.test.ts` › name of the test". */
const TEST_RE = /^\s*- `([^`]+)` › (.+)$/;

export function parseHazardLog(markdown: string): HazardEntry[] {
  const hazards: HazardEntry[] = [];
  let inTests = false;
  for (const line of markdown.split('\n')) {
    const h = HAZARD_RE.exec(line);
    if (h) {
      hazards.push({ id: h[1]!, title: h[2]!.trim(), tests: [] });
      inTests = false;
      continue;
    }
    if (/^\*\*Tests/.test(line.trim()) || /^- \*\*Tests/.test(line.trim())) {
      inTests = true;
      continue;
    }
    if (inTests) {
      const t = TEST_RE.exec(line);
      if (t && hazards.length) hazards.at(-1)!.tests.push({ file: t[1]!, name: t[2]!.trim() });
      else if (line.trim() !== '') inTests = false;
    }
  }
  return hazards;
}

/** Normalise quotes so a name written with ' matches a test written with ’ and the reverse. */
const plain = (s: string) => s.replace(/[‘’]/g, "'").replace(/[“”]/g, '"');

/** Check the log in `root` (or `markdown` given instead), against the tests under `root`. */
export function checkHazardLog(root: string, markdown?: string): HazardLogCheck {
  const logPath = join(root, 'docs/safety/hazard-log.md');
  if (markdown === undefined && !existsSync(logPath)) {
    return { hazards: [], problems: [`${logPath} does not exist`] };
  }
  const hazards = parseHazardLog(markdown ?? readFileSync(logPath, 'utf8'));
  const problems: string[] = [];
  if (hazards.length === 0) problems.push('the hazard log lists no hazards');
  const seen = new Set<string>();
  for (const h of hazards) {
    if (seen.has(h.id)) problems.push(`${h.id} appears twice`);
    seen.add(h.id);
    if (h.tests.length === 0) problems.push(`${h.id} (${h.title}) names no test`);
    for (const t of h.tests) {
      const file = join(root, t.file);
      if (!existsSync(file)) {
        problems.push(`${h.id}: ${t.file} does not exist`);
        continue;
      }
      if (!plain(readFileSync(file, 'utf8')).includes(plain(t.name))) {
        problems.push(`${h.id}: ${t.file} has no test named "${t.name}"`);
      }
    }
  }
  return { hazards, problems };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const { hazards, problems } = checkHazardLog(root);
  const tests = hazards.reduce((n, h) => n + h.tests.length, 0);
  for (const p of problems) console.error(`hazard log: ${p}`);
  console.log(`hazard log: ${hazards.length} hazards, ${tests} named tests, ${problems.length} problems`);
  process.exit(problems.length ? 1 : 0);
}
