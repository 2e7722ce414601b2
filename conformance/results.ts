// Pure helpers of `npm run conformance`: per-test results from `go test -json` events, the
// upstream conformance report, and the check that the report tells the same story as the
// tests that really ran. No I/O here.
//
// Why the check: the v1.6.1 suite wrote its report before its parallel tests had run, so they
// were listed as passed whatever happened. The pinned release records results when each test
// has finished, but a report is only ever kept when it agrees with the go test results.

/** One line of `go test -json` (test2json). */
export interface GoTestEvent {
  readonly Action: string;
  readonly Test?: string;
  readonly Package?: string;
  readonly Output?: string;
  readonly Elapsed?: number;
}

export type Outcome = 'pass' | 'fail' | 'skip';

export interface TestResult {
  /** The upstream short name, e.g. HTTPRouteSimpleSameNamespace. */
  readonly name: string;
  readonly outcome: Outcome;
  readonly elapsedSeconds: number;
}

export interface GoTestResults {
  /** Subtests of the parent test, in the order they finished. */
  readonly tests: readonly TestResult[];
  /** The parent test's own outcome ('pass' | 'fail' | 'skip'), undefined when it never ended. */
  readonly parent: Outcome | undefined;
  /** The package's outcome, undefined when the run was cut short (killed, timed out hard). */
  readonly packageOutcome: Outcome | undefined;
}

const OUTCOMES: ReadonlySet<string> = new Set(['pass', 'fail', 'skip']);

/**
 * Results of the direct subtests of `parent` (TestConformance/<name>). Deeper subtests
 * (TestConformance/<name>/<case>) belong to their test and are not counted on their own.
 */
export function collectResults(events: Iterable<GoTestEvent>, parent = 'TestConformance'): GoTestResults {
  const byName = new Map<string, TestResult>();
  let parentOutcome: Outcome | undefined;
  let packageOutcome: Outcome | undefined;
  const prefix = `${parent}/`;
  for (const ev of events) {
    if (!OUTCOMES.has(ev.Action)) continue;
    const outcome = ev.Action as Outcome;
    if (ev.Test === undefined) {
      packageOutcome = outcome;
    } else if (ev.Test === parent) {
      parentOutcome = outcome;
    } else if (ev.Test.startsWith(prefix) && !ev.Test.slice(prefix.length).includes('/')) {
      const name = ev.Test.slice(prefix.length);
      byName.set(name, { name, outcome, elapsedSeconds: ev.Elapsed ?? 0 });
    }
  }
  return { tests: [...byName.values()], parent: parentOutcome, packageOutcome };
}

/** Parses `go test -json` output; lines that are not JSON events (build output) are skipped. */
export function parseGoTestJson(text: string): GoTestEvent[] {
  const events: GoTestEvent[] = [];
  for (const line of text.split('\n')) {
    const event = parseGoTestLine(line);
    if (event !== undefined) events.push(event);
  }
  return events;
}

export function parseGoTestLine(line: string): GoTestEvent | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value === 'object' && value !== null && typeof (value as { Action?: unknown }).Action === 'string') {
      return value as GoTestEvent;
    }
  } catch {
    // not an event
  }
  return undefined;
}

// ---- the upstream report (sigs.k8s.io/gateway-api/conformance/apis/v1) ----

export interface ReportStatus {
  readonly result?: string;
  readonly statistics?: { readonly Passed?: number; readonly Failed?: number; readonly Skipped?: number };
  readonly skippedTests?: readonly string[];
  readonly failedTests?: readonly string[];
}

export interface ProfileReport {
  readonly name: string;
  readonly summary?: string;
  readonly core?: ReportStatus;
  readonly extended?: ReportStatus & {
    readonly supportedFeatures?: readonly string[];
    readonly unsupportedFeatures?: readonly string[];
  };
}

export interface ConformanceReport {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly implementation?: { readonly version?: string };
  readonly gatewayAPIVersion?: string;
  readonly gatewayAPIChannel?: string;
  readonly mode?: string;
  readonly profiles?: readonly ProfileReport[];
  readonly succeededProvisionalTests?: readonly string[];
}

export interface Counts {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
}

export interface ProfileSummary {
  readonly name: string;
  readonly core: Counts;
  readonly extended: Counts;
  readonly failedTests: readonly string[];
  readonly skippedTests: readonly string[];
  readonly unsupportedFeatures: readonly string[];
}

function counts(status: ReportStatus | undefined): Counts {
  const s = status?.statistics ?? {};
  return { passed: s.Passed ?? 0, failed: s.Failed ?? 0, skipped: s.Skipped ?? 0 };
}

export function summarizeReport(report: ConformanceReport): ProfileSummary[] {
  return [...(report.profiles ?? [])]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((p) => ({
      name: p.name,
      core: counts(p.core),
      extended: counts(p.extended),
      failedTests: [...(p.core?.failedTests ?? []), ...(p.extended?.failedTests ?? [])].sort(),
      skippedTests: [...(p.core?.skippedTests ?? []), ...(p.extended?.skippedTests ?? [])].sort(),
      unsupportedFeatures: [...(p.extended?.unsupportedFeatures ?? [])].sort(),
    }));
}

/**
 * Disagreements between the report and the go test results; empty when the report may be
 * kept. Every test that failed must be listed as failed in every profile that counts it, no
 * test that passed may be listed as failed, and no profile may count more passes than there
 * were passing tests.
 */
export function checkReport(report: ConformanceReport, results: GoTestResults): string[] {
  const problems: string[] = [];
  if (results.packageOutcome === undefined) problems.push('the go test run did not finish (no package result)');
  const outcome = new Map(results.tests.map((t) => [t.name, t.outcome]));
  const failed = results.tests.filter((t) => t.outcome === 'fail').map((t) => t.name);
  const passed = results.tests.filter((t) => t.outcome === 'pass').length;
  const listedFailed = new Set<string>();
  const listedSkipped = new Set<string>();
  for (const p of report.profiles ?? []) {
    for (const name of [...(p.core?.failedTests ?? []), ...(p.extended?.failedTests ?? [])]) {
      listedFailed.add(name);
      if (outcome.get(name) !== 'fail') {
        problems.push(`${p.name}: report lists ${name} as failed, go test says ${outcome.get(name) ?? 'it never ran'}`);
      }
    }
    for (const name of [...(p.core?.skippedTests ?? []), ...(p.extended?.skippedTests ?? [])]) listedSkipped.add(name);
    const profilePassed = counts(p.core).passed + counts(p.extended).passed;
    if (profilePassed > passed) {
      problems.push(`${p.name}: report counts ${profilePassed} passed tests, go test saw only ${passed} pass`);
    }
    const profileFailed = counts(p.core).failed + counts(p.extended).failed;
    const profileListed = (p.core?.failedTests?.length ?? 0) + (p.extended?.failedTests?.length ?? 0);
    if (profileFailed !== profileListed) {
      problems.push(`${p.name}: report counts ${profileFailed} failed tests but lists ${profileListed}`);
    }
  }
  for (const name of failed) {
    // A failed test the report does not list is acceptable only when no profile counts it,
    // which the report cannot tell us; a test listed nowhere as failed, nor skipped, is hidden.
    if (!listedFailed.has(name) && !listedSkipped.has(name) && (report.profiles?.length ?? 0) > 0) {
      problems.push(`${name} failed in go test but the report does not list it as failed`);
    }
  }
  return problems;
}

/** `<channel>-<implementation version>-<mode>-report.yaml`, the upstream naming rule. */
export function reportFileName(report: ConformanceReport): string {
  const channel = report.gatewayAPIChannel ?? 'unknown';
  const version = report.implementation?.version ?? 'unknown';
  const mode = report.mode ?? 'default';
  return `${channel}-${version}-${mode}-report.yaml`;
}

function pad(s: string | number, n: number): string {
  return String(s).padStart(n);
}

/** Human summary: one line per profile and level, then failed tests. */
export function formatSummary(results: GoTestResults, profiles: readonly ProfileSummary[]): string {
  const lines: string[] = [];
  const by = (o: Outcome): number => results.tests.filter((t) => t.outcome === o).length;
  lines.push(`go test: ${by('pass')} passed, ${by('fail')} failed, ${by('skip')} skipped (not run: unsupported feature, excluded or not selected)`);
  if (profiles.length > 0) {
    lines.push(`${'profile'.padEnd(16)} ${'level'.padEnd(9)} ${pad('passed', 6)} ${pad('failed', 6)} ${pad('skipped', 7)}`);
    for (const p of profiles) {
      for (const [level, c] of [['core', p.core], ['extended', p.extended]] as const) {
        lines.push(`${p.name.padEnd(16)} ${level.padEnd(9)} ${pad(c.passed, 6)} ${pad(c.failed, 6)} ${pad(c.skipped, 7)}`);
      }
      if (p.unsupportedFeatures.length > 0) {
        lines.push(`${p.name}: ${p.unsupportedFeatures.length} extended features not claimed: ${p.unsupportedFeatures.join(', ')}`);
      }
    }
  }
  const failed = results.tests.filter((t) => t.outcome === 'fail').map((t) => t.name).sort();
  if (failed.length > 0) lines.push(`failed: ${failed.join(', ')}`);
  return lines.join('\n');
}
