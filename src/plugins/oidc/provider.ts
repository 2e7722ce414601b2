// The OpenID provider as the plugin sees it: discovery (fetched once per issuer and shared
// across reloads; a failed fetch is retried on the next request), the provider's JWKS, and
// the authorization-code exchange.
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';

export interface Discovery {
  readonly authorization_endpoint: string;
  readonly token_endpoint: string;
  readonly jwks_uri: string;
  readonly issuer: string;
  readonly end_session_endpoint?: string;
}

export class ProviderClient {
  readonly issuer: string;
  private discovery: Promise<Discovery> | undefined;
  private keys: JWTVerifyGetKey | undefined;

  constructor(issuer: string) {
    this.issuer = issuer;
  }

  discover(): Promise<Discovery> {
    this.discovery ??= (async () => {
      const res = await fetch(`${this.issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`discovery answered ${res.status}`);
      const d = (await res.json()) as Discovery;
      if (typeof d.authorization_endpoint !== 'string' || typeof d.token_endpoint !== 'string' || typeof d.jwks_uri !== 'string') {
        throw new Error('discovery document lacks endpoints');
      }
      // OpenID Connect Discovery 4.3: the issuer in the document must be the one configured.
      if (d.issuer.replace(/\/$/, '') !== this.issuer) throw new Error('discovery issuer does not match');
      return d;
    })();
    this.discovery.catch(() => {
      this.discovery = undefined;
    });
    return this.discovery;
  }

  async jwks(): Promise<JWTVerifyGetKey> {
    if (this.keys !== undefined) return this.keys;
    const d = await this.discover();
    this.keys = createRemoteJWKSet(new URL(d.jwks_uri), { cooldownDuration: 5000, timeoutDuration: 5000 });
    return this.keys;
  }

  /** Authorization code → tokens (client_secret_basic, PKCE). */
  async exchange(code: string, redirectUri: string, verifier: string, clientId: string, clientSecret: string): Promise<{ id_token?: string; access_token?: string }> {
    const d = await this.discover();
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
    const res = await fetch(d.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier }).toString(),
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) throw new Error(`token endpoint answered ${res.status}`);
    return (await res.json()) as { id_token?: string; access_token?: string };
  }
}
