/**
 * The pipeline: the only module that knows all three stages. Resources go through the pure
 * translator, the table goes to the proxy, and what the proxy really applied goes back into the
 * statuses (Programmed). Both front ends (standalone files, the Kubernetes controller) drive it.
 *
 * Must not: read files or talk to the Kubernetes API (front ends do), or build tables itself.
 */
export { createPipeline } from './pipeline.ts';
export type { Pipeline, PipelineSnapshot, PipelineDeps } from './pipeline.ts';
export { describeProblems } from './describe-problems.ts';
