import type { ValidateContext, ValidateResult } from '../types.ts';
export function validateOidc(_raw: unknown, ctx: ValidateContext): ValidateResult {
  return { ok: false, errors: [{ field: ctx.field, message: 'OIDC is not available yet' }] };
}
