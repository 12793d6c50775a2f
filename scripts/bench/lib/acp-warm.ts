// The warm-session part of the ACP benchmark: a prompt in a warm session (POST /acp/sessions/:id/prompts)
// against a cold ACP job, (1) with the SDK example agent (a scripted turn of ≈ 5 s: compared on the
// time until the agent's first update, i.e. the start-up a warm session saves), (2) with the
// instant agent, whose cold job loads its session (`acp_session_id`): compared on the whole turn.
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import type { BenchClient } from './http-client.js'
import type { Row } from './report.js'
import { median, round } from './stats.js'

const EXAMPLE_AGENT = fileURLToPath(new URL('../../../node_modules/acp-sdk-v1/dist/examples/agent.js', import.meta.url))
const INSTANT_AGENT = fileURLToPath(new URL('./instant-acp-agent.mjs', import.meta.url))
const EXAMPLE_ROUNDS = Number(process.env.BENCH_ACP_WARM_ROUNDS ?? 5)
const INSTANT_ROUNDS = Number(process.env.BENCH_ACP_WARM_INSTANT_ROUNDS ?? 20)
const TARGET_RATIO = 0.2
const FINISHED = new Set(['completed', 'failed', 'timeout', 'cancelled'])

interface Turn { totalMs: number, firstUpdateMs: number }
interface JobView { status: string, acpError?: string, events: Array<{ type: string, timestamp: number }> }

const command = (script: string): string => `'${process.execPath}' '${script}'`

/** Times one job from just before `submit` until a long-poll sees it completed; the first update from its event timestamps. */
async function timed (client: BenchClient, submit: () => Promise<string>): Promise<Turn> {
  const startedAtMs = Date.now()
  const start = performance.now()
  const jobId = await submit()
  for (;;) {
    const job = await client.json<JobView>('GET', `/jobs/${jobId}?wait=60`, undefined, [200])
    if (!FINISHED.has(job.status)) continue
    const totalMs = performance.now() - start
    if (job.status !== 'completed') throw new Error(`job ${jobId} ended ${job.status}: ${job.acpError ?? ''}`)
    const first = job.events.find((e) => e.type === 'message')
    if (!first) throw new Error(`job ${jobId} has no message event`)
    return { totalMs, firstUpdateMs: first.timestamp * 1000 - startedAtMs }
  }
}

async function pair (client: BenchClient, workdir: string, agent: string, rounds: number, cold: Record<string, unknown>): Promise<{ warm: Turn[], cold: Turn[] }> {
  const session = await client.json<{ id: string, acpSessionId: string }>('POST', '/acp/sessions', { agent, workdir, permissionPolicy: 'allow-all' }, [201])
  const prompt = async (): Promise<string> =>
    (await client.json<{ jobId: string }>('POST', `/acp/sessions/${session.id}/prompts`, { prompt: 'x' }, [202])).jobId
  const job = async (): Promise<string> =>
    (await client.json<{ jobId: string }>('POST', '/exec', { mode: 'acp', agent, workdir, prompt: 'x', permissionPolicy: 'allow-all', ...cold }, [202])).jobId
  const result = { warm: [] as Turn[], cold: [] as Turn[] }
  try {
    await timed(client, prompt)
    for (let i = 0; i < rounds; i++) {
      result.cold.push(await timed(client, job))
      result.warm.push(await timed(client, prompt))
    }
  } finally {
    await client.json('DELETE', `/acp/sessions/${session.id}`, undefined, [200])
  }
  return result
}

const p50 = (turns: Turn[], key: keyof Turn): number => round(median(turns.map((t) => t[key])))

/** Runs both comparisons; returns the table rows and the numbers for the JSON line. */
export async function warmVsCold (client: BenchClient, workdir: string): Promise<{ rows: Row[], results: Record<string, number> }> {
  const example = await pair(client, workdir, command(EXAMPLE_AGENT), EXAMPLE_ROUNDS, {})
  // Why another id than the warm session's ('bench'): a job on a warm session's id would run in it.
  const instant = await pair(client, workdir, command(INSTANT_AGENT), INSTANT_ROUNDS, { acp_session_id: 'bench-cold' })
  const results = {
    exampleColdFirstUpdateMs: p50(example.cold, 'firstUpdateMs'),
    exampleWarmFirstUpdateMs: p50(example.warm, 'firstUpdateMs'),
    exampleColdTotalMs: p50(example.cold, 'totalMs'),
    exampleWarmTotalMs: p50(example.warm, 'totalMs'),
    instantColdLoadTotalMs: p50(instant.cold, 'totalMs'),
    instantWarmTotalMs: p50(instant.warm, 'totalMs'),
  }
  const firstRatio = round(results.exampleWarmFirstUpdateMs / results.exampleColdFirstUpdateMs)
  const instantRatio = round(results.instantWarmTotalMs / results.instantColdLoadTotalMs)
  const rows: Row[] = [
    [`SDK example agent, submit → first update: cold job vs warm prompt (p50, ${EXAMPLE_ROUNDS} rounds)`, `warm ≤ ${TARGET_RATIO}× cold`, `${results.exampleColdFirstUpdateMs} vs ${results.exampleWarmFirstUpdateMs} ms (${firstRatio}×)`, firstRatio <= TARGET_RATIO],
    ['SDK example agent, whole turn (its own scripted ≈ 5 s): cold job vs warm prompt (p50)', '—', `${results.exampleColdTotalMs} vs ${results.exampleWarmTotalMs} ms`, null],
    [`Instant agent, whole turn: cold job with acp_session_id (spawn, initialize, session/load) vs warm prompt (p50, ${INSTANT_ROUNDS} rounds)`, `warm ≤ ${TARGET_RATIO}× cold`, `${results.instantColdLoadTotalMs} vs ${results.instantWarmTotalMs} ms (${instantRatio}×)`, instantRatio <= TARGET_RATIO],
  ]
  return { rows, results }
}
