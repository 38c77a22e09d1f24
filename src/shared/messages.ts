import { defineQuery } from '@temporalio/workflow';

/** Queries shared by workflows and clients (defined once, imported by both). */
export const pipelineStageQuery = defineQuery<string>('stage');
