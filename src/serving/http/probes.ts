import type { Route } from './context';

/** What load balancers and Prometheus call: always open (src/serving/auth.ts). */

export const probeRoutes: Route[] = [
  {
    template: '/healthz',
    access: 'open',
    methods: { GET: ({ models }) => ({ status: 200, body: { status: 'ok', models: models.list().length } }) },
  },
  {
    template: '/metrics',
    access: 'open',
    methods: {
      GET: async ({ metrics, metricsText }) => {
        const { contentType, body } = await metrics.render();
        const text = metricsText ? await metricsText() : body;
        return { status: 200, body: undefined, raw: { contentType, text } };
      },
    },
  },
];
