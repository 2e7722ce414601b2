#!/usr/bin/env node
// Entry point for the installed command: the compiled build when present (a published
// package), else the TypeScript sources, which Node.js 24 runs directly.
import { existsSync } from 'node:fs';

const built = new URL('../dist/main.js', import.meta.url);
await import(existsSync(built) ? built.href : new URL('../src/main.ts', import.meta.url).href);
