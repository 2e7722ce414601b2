/** gRPC answers for the proxy's own errors: status mapping, content-type detection, grpc-message encoding. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGrpcTimeout } from '../../src/proxy/grpc.ts';
import { encodeGrpcMessage, grpcErrorHeaders, grpcStatusOf, isGrpcContentType, sendError, type AnyResponse } from '../../src/proxy/errors.ts';

test('HTTP status of a proxy-made error → gRPC status (Envoy-compatible table)', () => {
  const cases: [number, number, string][] = [
    [400, 13, 'INTERNAL'],
    [401, 16, 'UNAUTHENTICATED'],
    [403, 7, 'PERMISSION_DENIED'],
    [404, 12, 'UNIMPLEMENTED'],
    [408, 4, 'DEADLINE_EXCEEDED'],
    [421, 14, 'UNAVAILABLE'],
    [429, 14, 'UNAVAILABLE'],
    [431, 8, 'RESOURCE_EXHAUSTED'],
    [500, 13, 'INTERNAL'],
    [502, 14, 'UNAVAILABLE'],
    [503, 14, 'UNAVAILABLE'],
    [504, 4, 'DEADLINE_EXCEEDED'],
    [418, 2, 'UNKNOWN'],
  ];
  for (const [http, grpc, name] of cases) assert.equal(grpcStatusOf(http), grpc, `${http} → ${name}`);
});

test('gRPC is detected by content-type application/grpc and its +format / parameter variants only', () => {
  for (const ct of ['application/grpc', 'application/grpc+proto', 'application/grpc+json', 'application/grpc;charset=utf-8']) {
    assert.equal(isGrpcContentType(ct), true, ct);
  }
  for (const ct of [undefined, '', 'application/json', 'application/grpc-web', 'application/grpc-web+proto', 'application/grpcx', 'text/application/grpc']) {
    assert.equal(isGrpcContentType(ct), false, String(ct));
  }
});

test('grpc-message is percent-encoded as the gRPC spec says (UTF-8, controls and % only)', () => {
  assert.equal(encodeGrpcMessage('no route matched the request'), 'no route matched the request');
  assert.equal(encodeGrpcMessage('100% sure'), '100%25 sure');
  assert.equal(encodeGrpcMessage('line\nbreak'), 'line%0Abreak');
  assert.equal(encodeGrpcMessage('café ✗'), 'caf%C3%A9 %E2%9C%97');
  assert.equal(decodeURIComponent(encodeGrpcMessage('a%b ✗\t')), 'a%b ✗\t');
});

test('a Trailers-Only answer: HTTP 200, application/grpc, grpc-status and grpc-message in one HEADERS frame', () => {
  const calls: string[] = [];
  let sent: Record<string, unknown> | undefined;
  const res = {
    headersSent: false,
    writableFinished: false,
    writeHead: () => calls.push('writeHead'),
    write: () => true,
    end: () => calls.push('end'),
    addTrailers: () => {},
    destroy: () => {},
    once: () => {},
    on: () => {},
    respondAndEnd: (status: number, h: Record<string, unknown>) => {
      calls.push(`respondAndEnd ${status}`);
      sent = h;
    },
  } as unknown as AnyResponse;
  // A plugin's own header cannot override the gRPC status.
  sendError(res, 429, 'RATE_LIMITED', 'too many requests', 'rid-1', true, { 'grpc-status': '0', 'retry-after': '1' });
  assert.deepEqual(calls, ['respondAndEnd 200']);
  assert.equal(sent!['content-type'], 'application/grpc');
  assert.equal(sent!['grpc-status'], '14');
  assert.equal(sent!['grpc-message'], 'RATE_LIMITED: too many requests');
  assert.equal(sent!['retry-after'], '1');
  assert.deepEqual(grpcErrorHeaders(404, 'NO_ROUTE', 'no route matched the request', 'r')['grpc-status'], '12');
});

test('grpc-timeout parses to whole milliseconds, rounded up; malformed values give no deadline', () => {
  const cases: [string | undefined, number][] = [
    ['1H', 3_600_000], ['2M', 120_000], ['3S', 3000], ['150m', 150], ['1500u', 2], ['1n', 1], ['0m', 0],
    ['99999999S', 99_999_999_000],
    [undefined, -1], ['', -1], ['m', -1], ['10', -1], ['10x', -1], ['-1S', -1], ['1.5S', -1], ['123456789S', -1], [' 1S', -1],
  ];
  for (const [v, ms] of cases) assert.equal(parseGrpcTimeout(v), ms, String(v));
});
