// Lint: typescript-eslint's recommended rules plus the module boundaries of the design:
// translate never imports controller or proxy; proxy imports only ir, plugins and
// observability; ir imports nothing.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const boundary = (files, patterns, message) => ({
  files,
  rules: {
    'no-restricted-imports': ['error', { patterns: [{ group: patterns, message }] }],
  },
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.cluster/**', 'bench/out/**', 'conformance/**/*.go'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', Buffer: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', performance: 'readonly', queueMicrotask: 'readonly', structuredClone: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', fetch: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  boundary(['src/ir/**'], ['*', '**'], 'ir imports nothing: it is the contract between translate and proxy.'),
  boundary(['src/translate/**'], ['**/controller/**', '**/proxy/**', '**/standalone/**', '**/observability/**', 'node:*', '!node:crypto'], 'translate is pure: no I/O, no clock, no controller, no proxy.'),
  boundary(['src/proxy/**'], ['**/translate/**', '**/controller/**', '**/standalone/**', '**/status/**'], 'proxy imports only ir, plugins and observability.'),
);
