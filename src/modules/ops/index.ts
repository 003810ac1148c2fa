import { Elysia, t } from 'elysia'
import type { Bus } from '../../bus/bus'
import type { Metrics } from '../../metrics'
import type { Store } from '../../store/store'
import { errors } from '../common/model'

const Health = t.Object({ status: t.String({ examples: ['ok'] }) })
const Readiness = t.Object({
  status: t.Union([t.Literal('ready'), t.Literal('unavailable')]),
  database: t.Boolean(),
  redis: t.Optional(t.Boolean()),
})

/** Liveness, readiness and Prometheus metrics: for load balancers and monitoring, no session. */
export function opsRoutes({ store, bus, metrics, usesRedis }: { store: Store; bus: Bus; metrics: Metrics; usesRedis: boolean }) {
  return new Elysia({ tags: ['operations'] })
    .get('/healthz', () => ({ status: 'ok' }), {
      response: { 200: Health },
      detail: { summary: 'Liveness', description: '200 while the process serves.', security: [] },
    })
    .get(
      '/readyz',
      async ({ set }) => {
        const database = await store.ping()
        const redis = usesRedis ? bus.healthy() : undefined
        const ready = database && redis !== false
        set.status = ready ? 200 : 503
        return { status: ready ? ('ready' as const) : ('unavailable' as const), database, ...(redis === undefined ? {} : { redis }) }
      },
      {
        response: { 200: Readiness, 503: Readiness },
        detail: { summary: 'Readiness', description: '200 when the database (and Redis, when configured) answers, else 503.', security: [] },
      },
    )
    .get(
      '/metrics',
      ({ set }) => {
        set.headers['content-type'] = 'text/plain; version=0.0.4; charset=utf-8'
        return metrics.render()
      },
      {
        response: { 200: t.String({ description: 'Prometheus text exposition format' }), ...errors() },
        detail: { summary: 'Prometheus metrics', security: [] },
      },
    )
}
