import { adminRoutes } from './admin';
import type { Route } from './context';
import { feedbackRoutes } from './feedback';
import { probeRoutes } from './probes';
import { v1Routes } from './v1';
import { v2Routes } from './v2';

/**
 * The model server's route table, one module per surface (docs/serving.md, "Endpoints"). Fixed
 * paths are found by lookup; templates with parameters are tried in this order (http/router.ts).
 */
export const routes: readonly Route[] = [...probeRoutes, ...v2Routes, ...v1Routes, ...feedbackRoutes, ...adminRoutes];
