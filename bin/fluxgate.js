#!/usr/bin/env -S node --no-memory-reducer
// Entry point for the installed command: the compiled build when present (a published package),
// else the TypeScript sources, which Node.js 24 runs directly. The shebang passes the Node.js
// flags of src/runtime-flags.ts.
import { existsSync } from 'node:fs';

const built = new URL('../dist/main.js', import.meta.url);
await import(existsSync(built) ? built.href : new URL('../src/main.ts', import.meta.url).href);
