// For the admin endpoint's view of the routing table: secrets some plugin configs must carry
// (an OIDC client secret, a session key) are replaced, whatever plugin they belong to.
const SECRET_FIELDS = new Set(['clientSecret', 'cookieSecret']);

export function redactPluginConfig(config: unknown): unknown {
  if (Array.isArray(config)) return config.map(redactPluginConfig);
  if (config === null || typeof config !== 'object') return config;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) out[k] = SECRET_FIELDS.has(k) ? '[redacted]' : redactPluginConfig(v);
  return out;
}
