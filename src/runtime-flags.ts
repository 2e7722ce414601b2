// Node.js flags every launcher of FluxGate passes: the `fluxgate` command's shebang, the npm
// scripts, the container's entrypoint, the benchmark and the conformance runner
// (test/runtime-flags.test.ts keeps them in step). They must be on the command line: V8 reads
// them when it sets up the heap, so v8.setFlagsFromString at start-up comes too late, and
// NODE_OPTIONS refuses them.
//
// --no-memory-reducer: a few seconds after traffic stops, V8's memory reducer runs a full GC that
// shrinks the heap and throws away the optimized code of the request path. When traffic returns,
// every hot function runs unoptimized until it is compiled again, on the core that serves the
// requests. Measured at 10,000 routes, idle 45 s between 5 s runs of wrk: after the reducing GC,
// about 150 functions compiled again and 17-18 us/req of user CPU for the next 5 s instead of
// 13-14; with the flag, no reducing GC and no recompilation. The cost: an idle process keeps its
// working-size heap (225 MB instead of about 105 MB committed at 10,000 routes), which the next
// traffic peak needs again anyway.
export const RUNTIME_FLAGS: readonly string[] = ['--no-memory-reducer'];
