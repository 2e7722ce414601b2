import { PRIORITY } from '../core/priorities.ts';
import type { Plugin } from '../types.ts';
import { createRequestTransform, createResponseTransform } from './create.ts';
import { validateRequestTransform, validateResponseTransform } from './validate.ts';

export const requestTransformPlugin: Plugin = { kind: 'request-transform', priority: PRIORITY['request-transform']!, validate: validateRequestTransform, create: createRequestTransform };
export const responseTransformPlugin: Plugin = { kind: 'response-transform', priority: PRIORITY['response-transform']!, validate: validateResponseTransform, create: createResponseTransform };
