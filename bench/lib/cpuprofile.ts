// Summarises a V8 .cpuprofile (node --cpu-prof): where the time goes, by function (self and
// inclusive time) and by file, so a proxy owner can see what to fix.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number; readonly columnNumber: number };
  readonly hitCount?: number;
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface Row { readonly name: string; readonly ms: number; readonly pct: number }

export interface ProfileSummary {
  readonly totalMs: number;
  readonly idlePct: number;
  readonly self: Row[];
  readonly inclusive: Row[];
  readonly byFile: Row[];
}

function shortUrl(url: string, repo: string): string {
  if (url === '') return '';
  let u = url.replace(/^file:\/\//, '');
  const snap = u.indexOf('/fluxgate-src/');
  if (snap >= 0) u = u.slice(snap + '/fluxgate-src/'.length);
  else if (u.startsWith(repo)) u = u.slice(repo.length).replace(/^\//, '');
  return u.replace(/^.*node_modules\//, 'node_modules/');
}

/**
 * `window` keeps only samples taken between `fromMs` and `toMs` after the profile started
 * (which is within a few tens of milliseconds of the process start).
 */
export function summarise(path: string, repo: string, top = 25, window?: { fromMs: number; toMs: number }): ProfileSummary {
  const p = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  // Sample time per node, from the real deltas (the sampling interval drifts under load).
  const selfUs = new Map<number, number>();
  let t = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (window !== undefined && (t < window.fromMs * 1000 || t > window.toMs * 1000)) continue;
    const id = p.samples[i] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0));
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const label = (n: ProfileNode): string => {
    const f = n.callFrame;
    const u = shortUrl(f.url, repo);
    return `${f.functionName || '(anonymous)'}${u === '' ? '' : ` ${u}:${f.lineNumber + 1}`}`;
  };
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const selfBy = new Map<string, number>();
  const fileBy = new Map<string, number>();
  const inclBy = new Map<string, number>();
  let idle = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (n === undefined) continue;
    const name = label(n);
    if (n.callFrame.functionName === '(idle)') idle += us;
    selfBy.set(name, (selfBy.get(name) ?? 0) + us);
    const file = shortUrl(n.callFrame.url, repo) || `(${n.callFrame.functionName || 'native'})`;
    fileBy.set(file, (fileBy.get(file) ?? 0) + us);
    // Inclusive: credit each distinct function on the stack once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const cn = byId.get(cur);
      if (cn === undefined) break;
      const l = label(cn);
      if (seen.has(l)) continue;
      seen.add(l);
      inclBy.set(l, (inclBy.get(l) ?? 0) + us);
    }
  }
  const rows = (m: Map<string, number>, filter: (k: string) => boolean = () => true): Row[] =>
    [...m.entries()].filter(([k]) => filter(k)).sort((a, b) => b[1] - a[1]).slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000, pct: (100 * us) / total }));
  const busy = (k: string): boolean => !k.startsWith('(idle)') && !k.startsWith('(root)') && !k.startsWith('(program)');
  return {
    totalMs: total / 1000,
    idlePct: (100 * idle) / total,
    self: rows(selfBy, busy),
    inclusive: rows(inclBy, (k) => busy(k) && !k.startsWith('(garbage collector)')),
    byFile: rows(fileBy),
  };
}

export function renderSummary(title: string, s: ProfileSummary): string {
  const table = (head: string, rows: Row[]): string =>
    [`| ${head} | ms | % of samples |`, '|---|---:|---:|', ...rows.map((r) => `| \`${r.name.replace(/\|/g, '\\|')}\` | ${r.ms.toFixed(0)} | ${r.pct.toFixed(1)}% |`)].join('\n');
  return [
    `### ${title}`, '',
    `${s.totalMs.toFixed(0)} ms of samples, ${s.idlePct.toFixed(1)}% idle.`, '',
    'Top functions by self time:', '', table('Function', s.self), '',
    'Top functions by inclusive time (each function counted once per stack):', '', table('Function', s.inclusive), '',
    'Self time by file:', '', table('File', s.byFile), '',
  ].join('\n');
}
