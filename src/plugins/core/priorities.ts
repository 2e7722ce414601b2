// Order of policy-attached plugins on a route, higher first (Kong's plugin priorities):
// authentication, then IP rules, then rate limiting (which needs the consumer), then transforms.
export const PRIORITY: Readonly<Record<string, number>> = {
  'oidc': 1500,
  'jwt': 1450,
  'key-auth': 1250,
  'basic-auth': 1100,
  'ip-restriction': 990,
  'rate-limit': 910,
  'circuit-breaker': 905,
  'request-transform': 801,
  'response-transform': 800,
};
