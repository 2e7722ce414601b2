// OpenAPI v3 schemas of the fluxgate.io/v1alpha1 kinds: the single source for the CRDs in
// manifests/crds (rendered by render.ts, checked by a test) and for standalone validation.
// Structural schemas (Kubernetes requires them): every object lists its properties.

type Schema = Record<string, unknown>;

/** Gateway API Duration (GEP-2257). */
const DURATION = '^([0-9]{1,5}(h|m|s|ms)){1,4}$';

const str = (extra: Schema = {}): Schema => ({ type: 'string', ...extra });
const int = (minimum: number, maximum: number): Schema => ({ type: 'integer', minimum, maximum });
const strList = (extra: Schema = {}): Schema => ({ type: 'array', items: str({ minLength: 1 }), maxItems: 64, ...extra });
const nameValueList: Schema = {
  type: 'array', maxItems: 32,
  items: { type: 'object', required: ['name', 'value'], properties: { name: str({ minLength: 1, maxLength: 256 }), value: str({ maxLength: 4096 }) } },
};
const ops: Schema = { type: 'object', properties: { set: nameValueList, add: nameValueList, remove: strList() } };

const targetRefs: Schema = {
  type: 'array', minItems: 1, maxItems: 16,
  description: 'GEP-713 targets: a Gateway (optionally one listener by sectionName), an HTTPRoute or GRPCRoute (optionally one rule by sectionName = rule name), in the policy namespace.',
  items: {
    type: 'object', required: ['group', 'kind', 'name'],
    properties: {
      group: str({ enum: ['gateway.networking.k8s.io'] }),
      kind: str({ enum: ['Gateway', 'HTTPRoute', 'GRPCRoute'] }),
      name: str({ minLength: 1, maxLength: 253 }),
      sectionName: str({ minLength: 1, maxLength: 253 }),
    },
  },
};

const cidrs = strList({ description: 'IP addresses or CIDRs (IPv4 or IPv6).' });

export const TRAFFIC_POLICY_SPEC: Schema = {
  type: 'object',
  properties: {
    targetRefs,
    consumerRefs: {
      type: 'array', minItems: 1, maxItems: 64,
      description: 'Applies only to these Consumers (by object name, same namespace); ranks as route+consumer, consumer... (see README).',
      items: { type: 'object', required: ['name'], properties: { name: str({ minLength: 1 }) } },
    },
    rateLimit: {
      type: 'object',
      description: 'Fixed-window limits (Kong rate-limiting). At least one window.',
      properties: {
        second: int(1, 1_000_000_000), minute: int(1, 1_000_000_000), hour: int(1, 1_000_000_000), day: int(1, 1_000_000_000),
        limitBy: str({ enum: ['consumer', 'ip', 'header', 'route'], default: 'consumer' }),
        headerName: str({ minLength: 1 }),
        policy: str({ enum: ['local', 'redis'], default: 'local' }),
        redis: {
          type: 'object', required: ['host'],
          properties: { host: str({ minLength: 1 }), port: int(1, 65535), database: int(0, 15), timeoutMs: int(1, 10_000), onError: str({ enum: ['Local', 'Deny'] }) },
        },
        trustedProxies: cidrs,
        hideClientHeaders: { type: 'boolean' },
      },
    },
    ipRestriction: { type: 'object', properties: { allow: cidrs, deny: cidrs, trustedProxies: cidrs } },
    requestTransform: { type: 'object', properties: { headers: ops, query: ops } },
    responseTransform: { type: 'object', properties: { headers: ops } },
    circuitBreaker: {
      type: 'object',
      description: 'Passive circuit breaker per attachment: open after consecutive failed responses, probe after openSeconds.',
      properties: { consecutiveFailures: int(1, 10_000), openSeconds: int(1, 3600), failureStatuses: { type: 'array', items: int(400, 599) } },
    },
    healthCheck: {
      type: 'object', required: ['active'],
      description: 'Active health checks of the endpoints of every backend the targeted routes send to (targetRefs only; ignored through ExtensionRef). Failing endpoints get no traffic until they pass again; if every endpoint fails, all get traffic (panic mode).',
      properties: {
        active: {
          type: 'object',
          properties: {
            path: str({ pattern: '^/', maxLength: 1024, description: 'Probe request path (default /).' }),
            host: str({ minLength: 1, maxLength: 253, description: 'Host header of probes (default: the endpoint address).' }),
            interval: str({ pattern: DURATION, description: 'Time between probes of one endpoint (Gateway API duration, default 5s, 100ms-1h).' }),
            timeout: str({ pattern: DURATION, description: 'Probe timeout (default 1s, 10ms-60s).' }),
            healthyThreshold: int(1, 100),
            unhealthyThreshold: int(1, 100),
            expectedStatuses: {
              type: 'array', minItems: 1, maxItems: 32, description: 'Passing statuses: codes or ranges like "200-399" (the default).',
              items: { 'x-kubernetes-int-or-string': true, pattern: '^[1-5][0-9][0-9](-[1-5][0-9][0-9])?$' },
            },
          },
        },
      },
    },
  },
};

export const AUTH_POLICY_SPEC: Schema = {
  type: 'object',
  'x-kubernetes-validations': [{ rule: '[has(self.keyAuth), has(self.basicAuth), has(self.jwt), has(self.oidc)].filter(x, x).size() == 1', message: 'set exactly one of keyAuth, basicAuth, jwt, oidc' }],
  properties: {
    targetRefs,
    consumerSelector: {
      type: 'object', description: 'Which Consumers of the namespace may authenticate (default: all).',
      properties: { matchLabels: { type: 'object', additionalProperties: { type: 'string' } } },
    },
    keyAuth: { type: 'object', properties: { keyNames: strList(), keyInHeader: { type: 'boolean' }, keyInQuery: { type: 'boolean' }, hideCredentials: { type: 'boolean' } } },
    basicAuth: { type: 'object', properties: { realm: str(), hideCredentials: { type: 'boolean' } } },
    jwt: {
      type: 'object',
      properties: {
        jwksUri: str({ pattern: '^https?://' }),
        keys: { type: 'array', maxItems: 32, items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        issuers: strList(), audiences: strList(),
        algorithms: { type: 'array', items: str({ enum: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] }) },
        clockSkewSeconds: int(0, 600), jwksCacheSeconds: int(1, 86_400), jwksCooldownSeconds: int(0, 3600),
        claimsToHeaders: { type: 'array', maxItems: 32, items: { type: 'object', required: ['claim', 'header'], properties: { claim: str({ minLength: 1 }), header: str({ minLength: 1 }) } } },
        consumerClaim: str({ minLength: 1 }), header: str({ minLength: 1 }), queryParam: str({ minLength: 1 }), hideCredentials: { type: 'boolean' },
      },
    },
    oidc: {
      type: 'object', required: ['issuer', 'clientId', 'clientSecretRef', 'cookieSecretRef'],
      properties: {
        issuer: str({ pattern: '^https?://' }),
        clientId: str({ minLength: 1 }),
        clientSecretRef: { type: 'object', required: ['name'], properties: { name: str({ minLength: 1 }), key: str({ minLength: 1 }) } },
        cookieSecretRef: { type: 'object', required: ['name'], properties: { name: str({ minLength: 1 }), key: str({ minLength: 1 }) } },
        redirectPath: str({ pattern: '^/' }),
        logoutPath: str({ pattern: '^/' }),
        scopes: strList(),
        cookieName: str({ minLength: 1 }),
        sessionSeconds: int(60, 604_800),
        bearerOnly: { type: 'boolean' },
        claimsToHeaders: { type: 'array', maxItems: 32, items: { type: 'object', required: ['claim', 'header'], properties: { claim: str({ minLength: 1 }), header: str({ minLength: 1 }) } } },
        consumerClaim: str({ minLength: 1 }),
      },
    },
  },
};

export const CONSUMER_SPEC: Schema = {
  type: 'object', required: ['username'],
  properties: {
    username: str({ minLength: 1, maxLength: 256 }),
    customId: str({ minLength: 1, maxLength: 256 }),
    credentials: {
      type: 'array', maxItems: 64,
      items: {
        type: 'object', required: ['type', 'secretRef'],
        properties: {
          type: str({ enum: ['KeyAuth', 'BasicAuth'] }),
          secretRef: { type: 'object', required: ['name'], properties: { name: str({ minLength: 1 }) } },
        },
      },
    },
  },
};

const accepted = { name: 'Accepted', type: 'string', jsonPath: '.status.conditions[?(@.type=="Accepted")].status' };
const age = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

export interface CrdKind {
  readonly kind: string;
  readonly plural: string;
  readonly shortNames: readonly string[];
  readonly spec: Schema;
  readonly columns: readonly Schema[];
}

export const CRD_KINDS: readonly CrdKind[] = [
  { kind: 'TrafficPolicy', plural: 'trafficpolicies', shortNames: ['ftp'], spec: TRAFFIC_POLICY_SPEC, columns: [accepted, age] },
  { kind: 'AuthPolicy', plural: 'authpolicies', shortNames: ['fap'], spec: AUTH_POLICY_SPEC, columns: [accepted, age] },
  { kind: 'Consumer', plural: 'consumers', shortNames: ['fcon'], spec: CONSUMER_SPEC, columns: [{ name: 'Username', type: 'string', jsonPath: '.spec.username' }, accepted, age] },
];
