// A PluginRequest as the proxy would hand it to a hook, and a runtime with a controllable clock.
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import type { PluginAnswer, PluginRequest, HookResult } from '../../src/plugins/index.ts';
import { BUILTIN_PLUGINS, createPluginRuntime } from '../../src/plugins/index.ts';
import { CTL, fieldLinePairs, isToken } from '../../src/proxy/http-syntax.ts';

/** A PluginRequest whose added response headers can be read back. */
export type TestRequest = PluginRequest & { readonly responseHeaders: Record<string, string> };

export function makeReq(o: { headers?: IncomingHttpHeaders; peer?: string; path?: string; query?: string; routeId?: string; consumer?: string } = {}): TestRequest {
  return {
    httpMethod: 'GET', path: o.path ?? '/', host: 'example.test', scheme: 'http', headers: o.headers ?? {},
    peerAddress: o.peer ?? '127.0.0.1', routeId: o.routeId ?? 'httproute/default/r/rule/0/match/0', query: o.query ?? '',
    upHeaders: { ...(o.headers as Record<string, string>) }, consumer: o.consumer, pluginResHooks: undefined,
    responseHeaders: {},
    addUpstreamHeader(name, value) {
      this.upHeaders[name] = value;
    },
    addResponseHeader(name, value) {
      this.responseHeaders[name] = value;
    },
    addResponseLines(lines) {
      // The proxy writes these lines into HTTP/1.1 heads unchecked: hold them to the contract.
      assert.ok(lines.endsWith('\r\n'), JSON.stringify(lines));
      const p = fieldLinePairs(lines);
      assert.equal(p.map((x, i) => (i % 2 === 0 ? `${x}: ` : `${x}\r\n`)).join(''), lines, 'every line is `name: value`');
      for (let i = 0; i < p.length; i += 2) {
        const name = p[i]!, value = p[i + 1]!;
        assert.ok(isToken(name, 0, name.length) && name === name.toLowerCase(), `field name ${JSON.stringify(name)}`);
        assert.ok(!CTL.test(value), `field value ${JSON.stringify(value)}`);
        assert.equal(p.indexOf(name), i, `${name} twice`);
        this.addResponseHeader(name, value);
      }
    },
  };
}

export function clock(start: number): { now: () => number; set(t: number): void; advance(ms: number): void } {
  let t = start;
  return { now: () => t, set: (x) => { t = x; }, advance: (ms) => { t += ms; } };
}

export function runtime(now?: () => number): ReturnType<typeof createPluginRuntime> {
  return createPluginRuntime({ plugins: BUILTIN_PLUGINS, ...(now !== undefined ? { now } : {}) });
}

export async function run(r: HookResult | Promise<HookResult>): Promise<PluginAnswer | undefined> {
  return r;
}
