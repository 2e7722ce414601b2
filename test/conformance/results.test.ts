// The checks `npm run conformance` makes before it keeps an upstream report: results from
// go test -json events, and a report that hides a failure (the v1.6.1 parallel-test bug)
// is caught.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkReport, collectResults, formatSummary, parseGoTestJson, reportFileName, summarizeReport } from '../../conformance/results.ts';
import type { ConformanceReport, GoTestEvent } from '../../conformance/results.ts';

const ev = (Action: string, Test?: string, Elapsed?: number): GoTestEvent => ({
  Action, Package: 'fluxgate.io/conformance',
  ...(Test === undefined ? {} : { Test }), ...(Elapsed === undefined ? {} : { Elapsed }),
});

// Parallel tests pause and finish after the sequential ones, which is what v1.6.1 got wrong.
const events: GoTestEvent[] = [
  ev('run', 'TestConformance'),
  ev('run', 'TestConformance/HTTPRouteSimpleSameNamespace'),
  ev('pause', 'TestConformance/HTTPRouteSimpleSameNamespace'),
  ev('run', 'TestConformance/GatewayClassObservedGenerationBump'),
  ev('pass', 'TestConformance/GatewayClassObservedGenerationBump', 3.1),
  ev('run', 'TestConformance/HTTPRouteCORS'),
  ev('skip', 'TestConformance/HTTPRouteCORS', 0),
  ev('cont', 'TestConformance/HTTPRouteSimpleSameNamespace'),
  ev('run', 'TestConformance/HTTPRouteSimpleSameNamespace/case-1'),
  ev('fail', 'TestConformance/HTTPRouteSimpleSameNamespace/case-1', 1),
  ev('fail', 'TestConformance/HTTPRouteSimpleSameNamespace', 30.5),
  ev('fail', 'TestConformance', 60),
  ev('fail', undefined, 61),
];

test('collectResults: direct subtests only, last outcome wins, parent and package outcomes', () => {
  const r = collectResults(events);
  assert.deepEqual(r.tests.map((t) => [t.name, t.outcome]), [
    ['GatewayClassObservedGenerationBump', 'pass'],
    ['HTTPRouteCORS', 'skip'],
    ['HTTPRouteSimpleSameNamespace', 'fail'],
  ]);
  assert.equal(r.parent, 'fail');
  assert.equal(r.packageOutcome, 'fail');
});

test('parseGoTestJson skips build output and broken lines', () => {
  const text = ['# fluxgate.io/conformance', JSON.stringify(ev('pass', 'TestConformance/X', 1)), '{"Action":', ''].join('\n');
  assert.deepEqual(parseGoTestJson(text).map((e) => e.Test), ['TestConformance/X']);
});

const report = (failedTests: string[], passed: number): ConformanceReport => ({
  apiVersion: 'gateway.networking.k8s.io/v1', kind: 'ConformanceReport',
  implementation: { version: '0.1.0' }, gatewayAPIVersion: 'v1.6.3', gatewayAPIChannel: 'experimental', mode: 'default',
  profiles: [{
    name: 'GATEWAY-HTTP',
    core: {
      result: failedTests.length ? 'failure' : 'success',
      statistics: { Passed: passed, Failed: failedTests.length, Skipped: 0 },
      ...(failedTests.length ? { failedTests } : {}),
    },
    extended: { result: 'success', statistics: { Passed: 0, Failed: 0, Skipped: 0 }, unsupportedFeatures: ['HTTPRouteCORS'] },
  }],
});

test('checkReport accepts a report that shows the failure', () => {
  assert.deepEqual(checkReport(report(['HTTPRouteSimpleSameNamespace'], 1), collectResults(events)), []);
});

test('checkReport rejects a report that lists a failed parallel test as passed', () => {
  const problems = checkReport(report([], 2), collectResults(events));
  assert.ok(problems.some((p) => p.includes('HTTPRouteSimpleSameNamespace failed in go test')), problems.join('\n'));
  assert.ok(problems.some((p) => p.includes('counts 2 passed tests, go test saw only 1')), problems.join('\n'));
});

test('checkReport rejects a failure the tests did not have, and a run that broke off', () => {
  const partial = collectResults(events.slice(0, -1));
  const problems = checkReport(report(['HTTPRouteSimpleSameNamespace', 'GatewayClassObservedGenerationBump'], 0), partial);
  assert.ok(problems.some((p) => p.includes('GatewayClassObservedGenerationBump as failed, go test says pass')));
  assert.ok(problems.some((p) => p.includes('did not finish')));
});

test('summary and report file name', () => {
  const r = report(['HTTPRouteSimpleSameNamespace'], 1);
  assert.equal(reportFileName(r), 'experimental-0.1.0-default-report.yaml');
  const text = formatSummary(collectResults(events), summarizeReport(r));
  assert.match(text, /go test: 1 passed, 1 failed, 1 skipped/);
  assert.match(text, /GATEWAY-HTTP +core +1 +1 +0/);
  assert.match(text, /failed: HTTPRouteSimpleSameNamespace/);
  assert.match(text, /not claimed: HTTPRouteCORS/);
});
