// Plugin workloads (issue 7's benchmark): the same 1-route HTTP/1.1 load as `h1`, through a
// route with a local rate limit (`/plugin-rl`) and one with key-auth plus a per-consumer rate
// limit (`/plugin-auth`), against FluxGate's own `h1` ("plugins off") in the same round. The
// limits are far above what the load reaches, so every request passes and is counted: the
// cost measured is the plugins', not the cost of answering 429.

export const RATE_LIMIT_PREFIX = '/plugin-rl';
export const RATE_LIMIT_PATH = `${RATE_LIMIT_PREFIX}/bench`;
export const KEY_AUTH_PREFIX = '/plugin-auth';
export const KEY_AUTH_PATH = `${KEY_AUTH_PREFIX}/bench`;
/** The API key the load sends (header `apikey`, Kong's default). */
export const BENCH_API_KEY = 'bench-consumer-key-0123456789';
export const BENCH_KEY_HEADER = `apikey: ${BENCH_API_KEY}`;
/** Response header that proves the rate limiter ran. */
export const RATE_LIMIT_HEADER = 'x-ratelimit-limit-second';

const LIMIT = 1_000_000_000;

function route(ns: string, name: string, prefix: string): string {
  return `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  parentRefs:
    - name: bench
  rules:
    - matches:
        - path: { type: PathPrefix, value: ${prefix} }
      backendRefs:
        - name: backend
          port: 80
`;
}

/** FluxGate YAML for the two plugin routes, their policies and the consumer. */
export function fluxgatePluginYaml(ns: string): string {
  return `${route(ns, 'plugin-rl', RATE_LIMIT_PREFIX)}${route(ns, 'plugin-auth', KEY_AUTH_PREFIX)}---
apiVersion: fluxgate.io/v1alpha1
kind: TrafficPolicy
metadata:
  name: rate-limit
  namespace: ${ns}
spec:
  targetRefs:
    - { group: gateway.networking.k8s.io, kind: HTTPRoute, name: plugin-rl }
  rateLimit:
    second: ${LIMIT}
    limitBy: ip
---
apiVersion: fluxgate.io/v1alpha1
kind: TrafficPolicy
metadata:
  name: consumer-limit
  namespace: ${ns}
spec:
  targetRefs:
    - { group: gateway.networking.k8s.io, kind: HTTPRoute, name: plugin-auth }
  rateLimit:
    second: ${LIMIT}
    limitBy: consumer
---
apiVersion: fluxgate.io/v1alpha1
kind: AuthPolicy
metadata:
  name: keys
  namespace: ${ns}
spec:
  targetRefs:
    - { group: gateway.networking.k8s.io, kind: HTTPRoute, name: plugin-auth }
  keyAuth:
    keyNames: [apikey]
---
apiVersion: v1
kind: Secret
metadata:
  name: bench-consumer-key
  namespace: ${ns}
stringData:
  key: ${BENCH_API_KEY}
---
apiVersion: fluxgate.io/v1alpha1
kind: Consumer
metadata:
  name: bench-consumer
  namespace: ${ns}
spec:
  username: bench
  credentials:
    - type: KeyAuth
      secretRef: { name: bench-consumer-key }
`;
}
